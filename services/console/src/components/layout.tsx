import { useEffect, useRef } from 'react';
import { Link, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { signOut, useSession } from '../lib/session.tsx';

const USER_LINKS = [
  ['/servers', 'My servers'],
  ['/catalog', 'Catalog'],
  ['/connect', 'Connect a client'],
  ['/keys', 'API keys'],
  ['/apps', 'Connected apps'],
  ['/activity', 'Activity'],
] as const;
const OPERATOR_LINKS = [
  ['/admin/catalog', 'Edit catalog'],
  ['/admin/users', 'Users and plans'],
  ['/admin/usage', 'Usage report'],
] as const;

/** Sets the document title for a page, so tabs and history say where one is. */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} — Switchboard`;
  }, [title]);
}

export function Layout() {
  const { session, me } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  // Move focus to the page's heading after navigation within the app, so keyboard and screen-reader
  // users follow; not on the first load, where the browser's own order (skip link first) applies.
  const shown = useRef(location.pathname);
  useEffect(() => {
    if (shown.current === location.pathname) return;
    shown.current = location.pathname;
    document.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: true });
  }, [location.pathname]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Switchboard
        </Link>
        {session ? (
          <nav aria-label="Main">
            <ul>
              {USER_LINKS.map(([to, label]) => (
                <li key={to}>
                  <NavLink to={to}>{label}</NavLink>
                </li>
              ))}
              {me?.role === 'operator'
                ? OPERATOR_LINKS.map(([to, label]) => (
                    <li key={to}>
                      <NavLink to={to}>{label}</NavLink>
                    </li>
                  ))
                : null}
            </ul>
          </nav>
        ) : null}
        {session ? (
          <div className="account">
            <span className="muted">{session.user.email}</span>
            <button
              type="button"
              className="secondary small"
              onClick={async () => {
                await signOut();
                navigate('/login');
              }}
            >
              Sign out
            </button>
          </div>
        ) : null}
      </header>
      <main id="main">
        <Outlet />
      </main>
    </>
  );
}
