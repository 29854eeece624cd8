// Taking an alert on, closing it and annotating it, for the HTTP routes and the socket actions alike: one
// scope check, one rule for who may close what, one view in the answer, whichever transport asked.
import { AlertError, type AlertService, type Alert, type Outcome } from '../alerting/alerts/index.ts';
import type { Scope } from './accounts/index.ts';
import { HttpProblem } from './plugins/problem.ts';
import type { AlertView, Views } from './views.ts';

export class AlertActions {
  constructor(
    private readonly alerts: AlertService,
    private readonly views: Views,
  ) {}

  /** "I'm on it": escalation stops. */
  async acknowledge(scope: Scope, id: string, note?: string): Promise<AlertView> {
    await this.visible(scope, id);
    return this.views.alert(await this.alerts.acknowledge(id, scope.actor, note));
  }

  /** Closes the alert with its outcome; family may not close SOS and fall alerts. */
  async resolve(scope: Scope, id: string, outcome: Outcome, note?: string): Promise<AlertView> {
    const alert = await this.visible(scope, id);
    if (!scope.mayResolve(alert))
      throw new HttpProblem(403, 'staff close SOS and fall alerts; you may acknowledge it');
    return this.views.alert(await this.alerts.resolve(id, scope.actor, outcome, note));
  }

  async addNote(scope: Scope, id: string, note: string): Promise<AlertView> {
    await this.visible(scope, id);
    return this.views.alert(await this.alerts.addNote(id, scope.actor, note));
  }

  /** Outside the scope the answer is 403 whether or not the alert exists; admins get a 404. */
  private async visible(scope: Scope, id: string): Promise<Alert> {
    const alert = await this.alerts.get(id);
    if (alert && scope.seesAlert(alert)) return alert;
    if (!alert && scope.isAdmin) throw new AlertError('not_found', `no alert ${id}`);
    throw new HttpProblem(403, 'this is outside what you may see');
  }
}
