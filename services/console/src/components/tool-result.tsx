import type { CallToolResult } from '../lib/mcp.ts';

type Content = CallToolResult['content'][number];

/** A tool's result as a person reads it: text as text (never markup), images, audio, resources. */
function Item({ item }: { item: Content }) {
  switch (item.type) {
    case 'text':
      return <pre className="result-text">{item.text}</pre>;
    case 'image':
      return (
        <img
          className="result-image"
          alt="Returned by the tool"
          src={`data:${item.mimeType};base64,${item.data}`}
        />
      );
    case 'audio':
      return (
        <audio
          controls
          src={`data:${item.mimeType};base64,${item.data}`}
          aria-label="Audio returned by the tool"
        >
          <track kind="captions" />
        </audio>
      );
    case 'resource': {
      const r = item.resource as { uri: string; mimeType?: string; text?: string; blob?: string };
      return (
        <div className="result-resource">
          <p>
            Resource <code>{r.uri}</code> {r.mimeType ? <span className="muted">({r.mimeType})</span> : null}
          </p>
          {r.text !== undefined ? (
            <pre className="result-text">{r.text}</pre>
          ) : (
            <p className="muted">Binary, {r.blob?.length ?? 0} base64 characters.</p>
          )}
        </div>
      );
    }
    case 'resource_link':
      return (
        <p className="result-resource">
          Link to resource <code>{item.uri}</code> {item.name ? `(${item.name})` : ''}
        </p>
      );
    default:
      return <pre className="result-text">{JSON.stringify(item, null, 2)}</pre>;
  }
}

export function ToolResult({ result }: { result: CallToolResult }) {
  return (
    <section aria-label="Result" className={result.isError ? 'result result-error' : 'result'}>
      <h3>{result.isError ? 'The tool reported an error' : 'Result'}</h3>
      {result.content.length === 0 && !result.structuredContent ? (
        <p className="muted">The tool returned nothing.</p>
      ) : null}
      {result.content.map((item, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: content items have no identity but their place
        <Item key={i} item={item} />
      ))}
      {result.structuredContent ? (
        <>
          <h4>Structured content</h4>
          <pre className="result-text">{JSON.stringify(result.structuredContent, null, 2)}</pre>
        </>
      ) : null}
    </section>
  );
}
