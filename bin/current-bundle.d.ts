export function currentBundle(bundle: URL, root: URL): URL | null;
