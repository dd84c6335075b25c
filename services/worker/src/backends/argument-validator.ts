import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';

// Ajv ships CommonJS classes; loading them with require keeps their constructors callable under NodeNext.
const require = createRequire(import.meta.url);
type AjvClass = new (options: object) => { compile(schema: object): ValidateFunction };
const Ajv2020 = (require('ajv/dist/2020') as { default: AjvClass }).default;
const AjvDraft7 = (require('ajv') as { default: AjvClass }).default;

// Formats (uri, email, …) are left to the server: a schema's format is advice, not a reason to refuse.
const options = {
  strict: false,
  allErrors: false,
  validateSchema: false,
  validateFormats: false,
  logger: false,
};
const ajv2020 = new Ajv2020(options);
const ajvDraft7 = new AjvDraft7(options);

/**
 * Tool arguments are checked against the tool's own input schema before they reach the server, so a
 * malformed call is refused with a clear error instead of reaching code that may not expect it. The
 * refusal is a tool execution error (`isError`), as MCP 2025-11-25 asks for input validation errors, so a
 * model sees it and can correct its call. A tool
 * whose schema cannot be compiled is passed through unchecked (the server still validates).
 */
export class ArgumentValidator {
  private readonly validators = new Map<string, ValidateFunction | null>();

  load(tools: { name: string; inputSchema?: unknown }[]): void {
    this.validators.clear();
    for (const tool of tools) this.validators.set(tool.name, compile(tool.inputSchema));
  }

  get loaded(): boolean {
    return this.validators.size > 0;
  }

  /** The problem with `args`, in words a model can act on, or undefined when they match. */
  check(tool: string, args: unknown): string | undefined {
    const validate = this.validators.get(tool);
    if (!validate) return undefined;
    if (validate(args ?? {})) return undefined;
    const first = validate.errors?.[0];
    const where = first?.instancePath ? `arguments${first.instancePath.replaceAll('/', '.')}` : 'arguments';
    // No tool name in the message: the backend's name differs from the prefixed one an aggregate
    // (`/mcp`) client called, and the client knows which call this answers.
    return `Invalid arguments: ${where} ${first?.message ?? 'do not match the tool input schema'}`;
  }
}

function compile(schema: unknown): ValidateFunction | null {
  if (!schema || typeof schema !== 'object') return null;
  try {
    const draft2020 = String((schema as { $schema?: unknown }).$schema ?? '').includes('2020-12');
    return (draft2020 ? ajv2020 : ajvDraft7).compile(schema as object);
  } catch {
    return null;
  }
}
