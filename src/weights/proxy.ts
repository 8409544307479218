// Which proxy a request goes through, as curl and pip read the environment: HTTPS_PROXY for
// https URLs, HTTP_PROXY for http ones (lower-case names first, as curl does), NO_PROXY for
// exceptions. Node 20's http module reads none of these itself.

function variable(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return v && v.trim() ? v.trim() : undefined;
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

/** NO_PROXY entries: `*`, host names (a leading dot or not: the domain and its subdomains), IPs, each with an optional `:port`. */
export function bypassesProxy(target: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = target.port || defaultPort(target.protocol);
  return noProxy.split(/[\s,]+/).filter(Boolean).some((raw) => {
    if (raw === '*') return true;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(raw.toLowerCase());
    if (!m) return false;
    if (m[2] && m[2] !== port) return false;
    const entry = m[1].replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    return host === entry || host.endsWith('.' + entry);
  });
}

/** The proxy URL for `target`, or null for a direct connection. */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv = process.env): URL | null {
  if (bypassesProxy(target, variable(env, 'no_proxy'))) return null;
  const raw = target.protocol === 'https:' ? variable(env, 'https_proxy') : variable(env, 'http_proxy');
  if (!raw) return null;
  let proxy: URL;
  try {
    // curl accepts a bare host:port; so do we.
    proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new Error(`Expected a proxy URL such as http://proxy.example.org:3128 in ${target.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'} but received '${raw}'.`);
  }
  if (proxy.protocol !== 'http:') {
    throw new Error(`Only http:// proxies are supported (CONNECT for https downloads); ${proxy.protocol}// in ${target.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'} is not.`);
  }
  return proxy;
}

/** `Proxy-Authorization` for a proxy URL with user:password, else undefined. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username) return undefined;
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

/** How a proxy is named in messages: never with its password. */
export function describeProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}
