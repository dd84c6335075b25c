// The OAuth consent page's behaviour (served as a file so the page's CSP allows no inline script).
// It talks only to Supabase Auth's public routes: sign in, read the authorization request, decide.
// Everything shown comes from the server and is set as text, never as markup.
(() => {
  const config = JSON.parse(document.querySelector('meta[name="switchboard-config"]').content);
  const auth = `${config.supabaseUrl}/auth/v1`;
  const id = new URLSearchParams(location.search).get('authorization_id');
  const main = document.querySelector('main');
  const SESSION = 'switchboard.consent.session';

  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  };
  const show = (...nodes) => main.replaceChildren(...nodes);
  const problem = (text) => el('p', { role: 'alert', className: 'problem', textContent: text });
  const headers = (token) => ({
    apikey: config.anonKey,
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  });
  const messageOf = async (res) => {
    const body = await res.json().catch(() => ({}));
    if (res.status === 429) return 'Too many attempts: wait a minute and try again.';
    if (body.code === 'invalid_credentials' || body.error_code === 'invalid_credentials')
      return 'That email and password do not match an account.';
    return body.message || body.msg || body.error_description || `The request failed (${res.status}).`;
  };

  function signIn(reason) {
    const email = el('input', {
      id: 'email',
      type: 'email',
      name: 'email',
      required: true,
      autocomplete: 'email',
    });
    const password = el('input', {
      id: 'password',
      type: 'password',
      name: 'password',
      required: true,
      autocomplete: 'current-password',
    });
    const form = el(
      'form',
      {},
      el('h1', { textContent: 'Sign in to continue' }),
      reason ? problem(reason) : '',
      el('label', { htmlFor: 'email', textContent: 'Email' }),
      email,
      el('label', { htmlFor: 'password', textContent: 'Password' }),
      password,
      el('button', { type: 'submit', textContent: 'Sign in' }),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const res = await fetch(`${auth}/token?grant_type=password`, {
        method: 'POST',
        headers: headers(),
        body: JSON.stringify({ email: email.value, password: password.value }),
      }).catch(() => undefined);
      if (!res) return signIn('Switchboard cannot be reached. Check your connection and try again.');
      if (!res.ok) return signIn(await messageOf(res));
      const session = await res.json();
      sessionStorage.setItem(SESSION, session.access_token);
      load();
    });
    show(form);
    email.focus();
  }

  async function load() {
    if (!id)
      return show(
        el('h1', { textContent: 'Nothing to approve' }),
        problem('This link has no authorization request in it.'),
      );
    const token = sessionStorage.getItem(SESSION);
    if (!token) return signIn();
    const res = await fetch(`${auth}/oauth/authorizations/${encodeURIComponent(id)}`, {
      headers: headers(token),
    }).catch(() => undefined);
    if (!res) return show(problem('Switchboard cannot be reached. Reload the page to try again.'));
    if (res.status === 401 || res.status === 403) {
      sessionStorage.removeItem(SESSION);
      return signIn('Your session has ended: sign in again.');
    }
    if (!res.ok)
      return show(
        el('h1', { textContent: 'This request cannot be approved' }),
        problem(await messageOf(res)),
      );
    const details = await res.json();
    if (details.redirect_url) return location.assign(details.redirect_url);
    const decide = async (action) => {
      const decided = await fetch(`${auth}/oauth/authorizations/${encodeURIComponent(id)}/consent`, {
        method: 'POST',
        headers: headers(token),
        body: JSON.stringify({ action }),
      });
      if (!decided.ok) return show(problem(await messageOf(decided)));
      location.assign((await decided.json()).redirect_url);
    };
    const name = details.client.name;
    show(
      el('h1', { textContent: `Connect ${name} to Switchboard?` }),
      el('p', { textContent: `${name} asks, as ${details.user.email ?? 'you'}, to:` }),
      el(
        'ul',
        {},
        ...(details.scope_descriptions ?? [details.scope]).map((d) => el('li', { textContent: d })),
      ),
      el('p', {
        className: 'muted',
        textContent: `It will reach ${details.resource}. It sends you back to ${new URL(details.redirect_uri).origin}.`,
      }),
      el('p', { className: 'muted', textContent: 'You can revoke it at any time from your connected apps.' }),
      el(
        'div',
        { className: 'actions' },
        Object.assign(el('button', { type: 'button', textContent: 'Approve' }), {
          onclick: () => decide('approve'),
        }),
        Object.assign(el('button', { type: 'button', className: 'secondary', textContent: 'Deny' }), {
          onclick: () => decide('deny'),
        }),
      ),
    );
  }

  load();
})();
