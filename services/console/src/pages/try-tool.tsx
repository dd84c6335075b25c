import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useTitle } from '../components/layout.tsx';
import { ToolForm } from '../components/tool-form.tsx';
import { ToolResult } from '../components/tool-result.tsx';
import { Loading, Problem } from '../components/ui.tsx';
import { type CallToolResult, callTool, listTools } from '../lib/mcp.ts';
import { useLoad } from '../lib/use-load.ts';

/** Try one tool through the MCP endpoint, as a client would call it. */
export function TryTool() {
  const { slug = '', tool = '' } = useParams();
  useTitle(`${tool} — ${slug}`);
  const tools = useLoad(() => listTools(slug), [slug]);
  const [result, setResult] = useState<CallToolResult>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const found = tools.data?.find((t) => t.name === tool);
  return (
    <section>
      <p>
        <Link to={`/servers/${encodeURIComponent(slug)}`}>← {slug}</Link>
      </p>
      <h1 tabIndex={-1}>Try {tool}</h1>
      {tools.loading && !tools.data ? <Loading what="Asking the server for its tools" /> : null}
      <Problem error={tools.error} title="The server's tools could not be listed" />
      {tools.data && !found ? <Problem error={new Error(`${slug} has no tool named ${tool}.`)} /> : null}
      {found ? (
        <>
          {found.description ? <p className="lede">{found.description}</p> : null}
          <ToolForm
            schema={found.inputSchema as never}
            busy={busy}
            onSubmit={async (args) => {
              setBusy(true);
              setError(undefined);
              setResult(undefined);
              try {
                setResult(await callTool(slug, tool, args));
              } catch (err) {
                setError(err);
              } finally {
                setBusy(false);
              }
            }}
          />
          <div aria-live="polite">
            <Problem error={error} title="The call failed" />
            {result ? <ToolResult result={result} /> : null}
          </div>
        </>
      ) : null}
    </section>
  );
}
