import path from 'node:path';
import ts from 'typescript';
import type { K8sObject } from './kustomize.ts';

/**
 * Type-checks manifests against kubernetes-models' interfaces, which are generated from the official
 * OpenAPI definitions. The JSON-schema validation those models run allows properties the schema does
 * not know (as the API server does without strict field validation), so a misspelt field
 * (`readinessprobe`, `securitycontext`) would pass it and be dropped silently by a cluster. TypeScript's
 * excess-property check on an object literal catches exactly that. Each object becomes
 * `const oN: I<Kind> = <its JSON>` in a virtual file beside the repository's node_modules; nothing is
 * written to disk.
 */
export function fieldErrors(objects: K8sObject[], modules: Record<string, string>, root: string): string[] {
  const file = path.join(root, 'scripts', '__manifests__.ts');
  const imports = new Map<string, Set<string>>();
  const lines = objects.map((o, i) => {
    const module = modules[o.apiVersion];
    if (!module) return `// ${o.kind}/${o.metadata.name}: no models for ${o.apiVersion}`;
    if (!imports.has(module)) imports.set(module, new Set());
    imports.get(module)!.add(`I${o.kind}`);
    return `export const o${i}: I${o.kind} = ${JSON.stringify(o)};`;
  });
  const source = [
    ...[...imports].map(([module, names]) => `import type { ${[...names].join(', ')} } from '${module}';`),
    ...lines,
  ].join('\n');

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === file ? source : readFile(name));

  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return message;
    // Name the object the error is in, not a position in the virtual file.
    const line = d.file.getLineAndCharacterOfPosition(d.start).line;
    const match = /^export const o(\d+)/.exec(source.split('\n')[line] ?? '');
    const o = match ? objects[Number(match[1])] : undefined;
    return `${o ? `${o.kind}/${o.metadata.name}` : 'manifests'}: ${message.split('\n').at(-1)}`;
  });
}
