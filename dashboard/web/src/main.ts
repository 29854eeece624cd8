import { createApp } from 'vue';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import App from './App.vue';

createApp(App).mount('#app');
