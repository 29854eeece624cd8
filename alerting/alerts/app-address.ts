// Where an in-app notification (channel `socketio`) is shown: the console of a community's staff or the
// family page of a resident. Alerting decides only whose screen; the dashboard, which owns the live
// connections, finds the sockets. The address is written into every outbox and delivery row, so its
// strings (`community:<id>`, `resident:<id>`) are a stored format: rows of older versions read the same.
export type AppAudience = { kind: 'community'; id: string } | { kind: 'resident'; id: string };

const AUDIENCE_KINDS: ReadonlySet<string> = new Set<AppAudience['kind']>(['community', 'resident']);

export function appAddress(audience: AppAudience): string {
  return `${audience.kind}:${audience.id}`;
}

/** The audience an address names, or undefined for any other string (an e-mail address, a webhook id). */
export function appAudience(address: string): AppAudience | undefined {
  const colon = address.indexOf(':');
  const kind = address.slice(0, colon);
  const id = address.slice(colon + 1);
  if (colon < 0 || id === '' || !AUDIENCE_KINDS.has(kind)) return undefined;
  return { kind: kind as AppAudience['kind'], id };
}
