import { createApp } from 'vue';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import App from './App.vue';
import ReportPrint from './reports/ReportPrint.vue';
import { printedReport } from './reports/format.ts';

// The PDF renderer hands a report in (dashboard/reports/pdf.ts): print it alone, without the app shell.
const report = printedReport();
if (report) createApp(ReportPrint, { report }).mount('#app');
else createApp(App).mount('#app');
