/**
 * The user's browser through an upstream authorization: follows redirects from `authorizationUrl`,
 * keeping cookies per host, through the service's sign-in and consent, back to Switchboard's callback
 * with Switchboard's cookie (set by the connect call), and returns where it ended (the console page)
 * and the callback's status.
 */
export async function authorizeInBrowser(
  authorizationUrl: string,
  switchboardCookie: string,
): Promise<{ finalUrl: string; callbackStatus: number }> {
  const jars = new Map<string, Map<string, string>>();
  let url = authorizationUrl;
  let callbackStatus = 0;
  for (let hop = 0; hop < 20; hop++) {
    const target = new URL(url);
    const jar = jars.get(target.host) ?? new Map<string, string>();
    jars.set(target.host, jar);
    const cookies = [...jar].map(([k, v]) => `${k}=${v}`);
    if (target.pathname === '/oauth/callback') cookies.push(switchboardCookie);
    const res = await fetch(url, {
      redirect: 'manual',
      headers: cookies.length ? { cookie: cookies.join('; ') } : {},
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    if (target.pathname === '/oauth/callback') callbackStatus = res.status;
    const location = res.headers.get('location');
    await res.body?.cancel();
    if (!location || res.status < 300 || res.status >= 400) return { finalUrl: url, callbackStatus };
    url = new URL(location, url).toString();
  }
  throw new Error('too many redirects');
}
