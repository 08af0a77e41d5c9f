/**
 * The layers of the house, checked on every import of every .ts and .svelte file (and every Python import in
 * training/):
 *  - src-shared/ (the contract, shared helpers) is shared by every process: it imports only itself and zod;
 *  - the engine (src-main/engine) is plain Node: it imports no shell code (electron, the IPC and bridge shells, the
 *    engine host, main, preload, the renderer), only itself, src-shared and npm packages;
 *  - the renderer (src-renderer) imports only its own files, the contract and the packages a page may bundle;
 *  - no import cycles among the project's files (type-only imports count: a cycle of types is still a knot).
 * Imports are read with regular expressions (static, re-exports, side-effect and dynamic imports), comments removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const TS_FOLDERS = ['src-main', 'src-shared', 'src-renderer', 'tools', 'tests'];
/** Packages the renderer may bundle (everything else it needs comes through the contract). */
const RENDERER_PACKAGES = new Set(['svelte']);
const SHARED_PACKAGES = new Set(['zod']);

export interface Import {
  /** The specifier as written. */
  spec: string;
  /** The project file it names (repo-relative, forward slashes), or null for a package or builtin. */
  file: string | null;
  /** The package name ('electron', 'zod', '@scope/name', 'node:fs'), or null for a project file. */
  pkg: string | null;
}

function walk(dir: string, exts: string[], skip: Set<string>): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name) || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full, exts, skip));
    else if (exts.some((e) => entry.name.endsWith(e))) out.push(full);
  }
  return out;
}

const rel = (file: string) => path.relative(root, file).split(path.sep).join('/');

/** The code of a file without its comments (a .svelte file: its <script> blocks). */
function codeOf(file: string): string {
  let text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.svelte')) text = [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

const IMPORT_PATTERNS = [
  /\bimport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*['"]([^'"]+)['"]/g,
  /\bexport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function resolveSpec(from: string, spec: string): Import {
  if (!spec.startsWith('.') && !spec.startsWith('/')) {
    const parts = spec.split('/');
    const pkg = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
    return { spec, file: null, pkg };
  }
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return { spec, file: rel(candidate), pkg: null };
  }
  return { spec, file: rel(base), pkg: null };
}

export function importsOf(file: string): Import[] {
  const code = codeOf(file);
  const specs = new Set<string>();
  for (const re of IMPORT_PATTERNS) for (const m of code.matchAll(re)) specs.add(m[1]);
  return [...specs].map((s) => resolveSpec(file, s));
}

/** Every project .ts/.svelte file and what it imports. */
function tsGraph(): Map<string, Import[]> {
  const graph = new Map<string, Import[]>();
  const skip = new Set(['node_modules', 'dist', 'fixtures']);
  for (const folder of TS_FOLDERS) {
    for (const file of walk(path.join(root, folder), ['.ts', '.svelte'], skip)) graph.set(rel(file), importsOf(file));
  }
  return graph;
}

/** Python modules of training/ and the training modules each imports (module level or inside a function). */
function pythonGraph(): Map<string, Import[]> {
  const graph = new Map<string, Import[]>();
  const dir = path.join(root, 'training');
  for (const file of walk(dir, ['.py'], new Set(['data', 'runs', 'photos', '__pycache__']))) {
    const text = fs.readFileSync(file, 'utf8').replace(/^\s*#.*$/gm, '');
    const found: Import[] = [];
    const local = (name: string, relative: boolean): void => {
      const top = name.split('.')[0];
      const base = relative ? path.dirname(file) : dir;
      const module = relative ? path.join(base, `${top}.py`) : path.join(dir, `${name.split('.')[1] ?? ''}.py`);
      if (fs.existsSync(module)) found.push({ spec: name, file: rel(module), pkg: null });
    };
    for (const m of text.matchAll(/^\s*from\s+(\.+)([\w.]*)\s+import\s+([\w\s,()]+)/gm)) {
      if (m[1].length !== 1) continue;
      if (m[2]) local(m[2], true);
      else for (const name of m[3].replace(/[()]/g, '').split(',')) local(name.trim().split(/\s+/)[0], true);
    }
    for (const m of text.matchAll(/^\s*(?:from|import)\s+(training\.[\w.]+)/gm)) local(m[1], false);
    graph.set(rel(file), found);
  }
  return graph;
}

/** One cycle per strongly connected component of project files, as a path a → b → … → a. */
export function cyclesOf(graph: Map<string, Import[]>): string[][] {
  const edges = new Map<string, string[]>();
  for (const [file, imports] of graph) {
    edges.set(file, [...new Set(imports.map((i) => i.file).filter((f): f is string => f !== null && graph.has(f)))]);
  }
  // Tarjan's strongly connected components.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (edges.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) connect(v);
  // A readable path through each component: breadth-first from its first file back to itself.
  return components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort()[0];
    const previous = new Map<string, string>();
    const queue = [start];
    while (queue.length) {
      const v = queue.shift()!;
      for (const w of edges.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          const cycle = [start];
          for (let x: string | undefined = v; x !== undefined && x !== start; x = previous.get(x)) cycle.splice(1, 0, x);
          return [...cycle, start];
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    return [...component, component[0]];
  });
}

const under = (file: string, folder: string) => file === folder || file.startsWith(`${folder}/`);

/** The imports of files below `folder` that break `allowed`, as readable lines. */
function violations(graph: Map<string, Import[]>, folder: string, allowed: (i: Import) => boolean): string[] {
  const out: string[] = [];
  for (const [file, imports] of graph) {
    if (!under(file, folder)) continue;
    for (const i of imports) if (!allowed(i)) out.push(`${file} imports '${i.spec}'`);
  }
  return out.sort();
}

const graph = tsGraph();

test('the import reader sees every kind of import', () => {
  const file = path.join(root, 'src-main', 'engine', 'studio', 'studio.ts');
  assert.ok(importsOf(file).some((i) => i.file === 'src-shared/contract/types.ts'), 'import type { … } from, across lines');
  assert.ok(graph.size > 200, `read ${graph.size} files`);
  const svelte = graph.get('src-renderer/components/BatchPanel.svelte') ?? [];
  assert.ok(svelte.some((i) => i.file === 'src-renderer/lib/store.svelte.ts'), 'a .svelte file’s script imports');
});

test('src-shared imports only itself and zod (every process can load it)', () => {
  assert.deepEqual(
    violations(graph, 'src-shared', (i) => (i.file !== null ? under(i.file, 'src-shared') : SHARED_PACKAGES.has(i.pkg!))),
    [],
  );
});

test('the engine imports no shell code: only itself, src-shared and packages other than electron', () => {
  assert.deepEqual(
    violations(graph, 'src-main/engine', (i) =>
      i.file !== null ? under(i.file, 'src-main/engine') || under(i.file, 'src-shared') : i.pkg !== 'electron',
    ),
    [],
  );
});

test('the renderer imports only its own files, the contract and the packages a page may bundle', () => {
  assert.deepEqual(
    violations(graph, 'src-renderer', (i) =>
      i.file !== null ? under(i.file, 'src-renderer') || under(i.file, 'src-shared/contract') : RENDERER_PACKAGES.has(i.pkg!),
    ),
    [],
  );
});

test('no import cycles among the TypeScript and Svelte files', () => {
  assert.deepEqual(cyclesOf(graph).map((c) => c.join(' → ')), []);
});

test('no import cycles among the Python modules of training/ (imports inside functions count)', () => {
  const py = pythonGraph();
  assert.ok(py.has('training/train.py') && (py.get('training/train.py') ?? []).length > 0, 'the reader sees training imports');
  assert.deepEqual(cyclesOf(py).map((c) => c.join(' → ')), []);
});

test('the cycle finder reports a cycle as a path', () => {
  const g = new Map<string, Import[]>([
    ['a.ts', [{ spec: './b.ts', file: 'b.ts', pkg: null }]],
    ['b.ts', [{ spec: './c.ts', file: 'c.ts', pkg: null }]],
    ['c.ts', [{ spec: './a.ts', file: 'a.ts', pkg: null }]],
    ['d.ts', [{ spec: './a.ts', file: 'a.ts', pkg: null }]],
  ]);
  assert.deepEqual(cyclesOf(g), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
});
