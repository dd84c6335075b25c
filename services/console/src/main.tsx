import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Link, Navigate, Route, Routes } from 'react-router';
import { Layout, useTitle } from './components/layout.tsx';
import { RequireSession, SessionProvider, useSession } from './lib/session.tsx';
import { Activity } from './pages/activity.tsx';
import { AdminCatalog, AdminCatalogEntry } from './pages/admin-catalog.tsx';
import { AdminUsage, AdminUsers } from './pages/admin-users.tsx';
import { ConnectedApps } from './pages/apps.tsx';
import { ResetPassword, SignIn, SignUp, UpdatePassword } from './pages/auth.tsx';
import { Catalog, CatalogServer } from './pages/catalog.tsx';
import { ConnectClient } from './pages/connect-client.tsx';
import { Consent } from './pages/consent.tsx';
import { Keys } from './pages/keys.tsx';
import { MyServers, ServerDetail } from './pages/servers.tsx';
import { TryTool } from './pages/try-tool.tsx';
import './styles.css';

function Home() {
  const { session } = useSession();
  if (session === undefined) return <p aria-live="polite">Loading…</p>;
  return <Navigate to={session ? '/servers' : '/login'} replace />;
}

function NotFound() {
  useTitle('Not found');
  return (
    <section>
      <h1 tabIndex={-1}>Nothing here</h1>
      <p>
        This page does not exist. <Link to="/">Go to the start</Link>.
      </p>
    </section>
  );
}

const signedIn = (page: React.ReactNode, operator = false) => (
  <RequireSession operator={operator}>{page}</RequireSession>
);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SessionProvider>
      <BrowserRouter>
        <Routes>
          <Route element={<Layout />}>
            <Route index element={<Home />} />
            <Route path="login" element={<SignIn />} />
            <Route path="signup" element={<SignUp />} />
            <Route path="reset-password" element={<ResetPassword />} />
            <Route path="update-password" element={<UpdatePassword />} />
            <Route path="catalog" element={signedIn(<Catalog />)} />
            <Route path="catalog/:slug" element={signedIn(<CatalogServer />)} />
            <Route path="servers" element={signedIn(<MyServers />)} />
            <Route path="servers/:slug" element={signedIn(<ServerDetail />)} />
            <Route path="servers/:slug/tools/:tool" element={signedIn(<TryTool />)} />
            <Route path="connect" element={signedIn(<ConnectClient />)} />
            <Route path="keys" element={signedIn(<Keys />)} />
            <Route path="apps" element={signedIn(<ConnectedApps />)} />
            <Route path="activity" element={signedIn(<Activity />)} />
            <Route path="oauth/consent" element={signedIn(<Consent />)} />
            <Route path="admin/catalog" element={signedIn(<AdminCatalog />, true)} />
            <Route path="admin/catalog/new" element={signedIn(<AdminCatalogEntry />, true)} />
            <Route path="admin/catalog/:slug" element={signedIn(<AdminCatalogEntry />, true)} />
            <Route path="admin/users" element={signedIn(<AdminUsers />, true)} />
            <Route path="admin/usage" element={signedIn(<AdminUsage />, true)} />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  </StrictMode>,
);
