// Builds the published agent: one CommonJS file, dist/register.js, with the OpenTelemetry
// packages inside. Loading one file instead of ~200 small ones roughly halves the agent's start-up
// time and saves memory; code for tracing, Sentry and the AI meters is in the file but only runs
// when the agent `require`s it. Kept outside the bundle (the package's only `dependencies`, or an
// optional peer):
// - import-in-the-middle: Node loads its ESM hook files by path;
// - require-in-the-middle: it patches Node's module loader and is small;
// - @sentry/*: the Sentry code resolves files inside @sentry/node, which the app installs beside
//   the agent when it wants Sentry (an optional peer dependency).
//
// The bundled packages are devDependencies: a user's install never downloads them. Beside the
// bundle the build writes what their licences ask for and what auditors read:
// - dist/THIRD-PARTY-NOTICES: name, version, licence and licence text of every bundled package;
// - dist/sbom.cdx.json: a CycloneDX SBOM (from `npm sbom`) of the bundled and runtime packages.
// @opentelemetry/api is bundled too, as the fallback of the copy installed beside the agent (a peer
// dependency shared with the app; see src/otel-api/shared.ts).
// The build fails when a package is bundled twice (two versions of @opentelemetry/instrumentation
// once were: a larger file and two copies of module state).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const RUNTIME_EXTERNALS = ['import-in-the-middle', 'require-in-the-middle'];
const SHARED_API = path.resolve('src/otel-api/shared.ts');
const API_FACADE = path.resolve('src/otel-api/facade.ts');
const BUNDLED_API_VERSION = JSON.parse(readFileSync('node_modules/@opentelemetry/api/package.json', 'utf8')).version;

// Every `@opentelemetry/api` import in the bundle (the agent's and the bundled SDK's) goes through
// src/otel-api/shared.ts, which picks the copy installed beside the agent or the bundled one. ES
// module imports get it through src/otel-api/facade.ts, as bindings, so their calls do not pass
// an interop getter each time.
const sharedApi = {
  name: 'shared-otel-api',
  setup(b) {
    b.onResolve({ filter: /^@opentelemetry\/api$/ }, (args) => {
      if (args.importer === SHARED_API) return undefined;
      // A CommonJS require gets shared.ts's exports object as it is; an import statement (the
      // agent's sources and the SDK's ES module builds) gets the facade's bindings.
      return { path: args.kind === 'require-call' ? SHARED_API : API_FACADE };
    });
  },
};

// @opentelemetry/resources' index starts every resource detector as soon as a module that imports
// it is initialised: node:crypto (serviceinstance), node:os, the host detector's machine-id code.
// The metrics SDK's MeterProvider imports it (for defaultResource), so the agent paid about 1 MB of
// RSS at start-up for detectors that run only when a resource is built. Imports of the package
// get the module of the Resource class alone (resourceFromAttributes, emptyResource,
// defaultResource), and that module's `#platform` import, which it needs for defaultServiceName,
// the file that defines it. The detectors stay in the index, imported only by
// src/lifecycle/resource.ts, which start.ts requires when a resource is built. An import of
// anything else from the package outside that module fails the build ("No matching export").
const RESOURCE_DETECTORS_USER = path.resolve('src/lifecycle/resource.ts');
const leanResources = {
  name: 'lean-otel-resources',
  setup(b) {
    const resourceImpl = new Set();
    b.onResolve({ filter: /^@opentelemetry\/resources$/ }, async (args) => {
      if (args.importer === RESOURCE_DETECTORS_USER || args.kind !== 'import-statement' || args.pluginData === leanResources) return undefined;
      const index = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: leanResources });
      if (index.errors.length > 0) return { errors: index.errors };
      const file = path.join(path.dirname(index.path), 'ResourceImpl.mjs');
      if (!existsSync(file)) return { errors: [{ text: `lean-otel-resources: ${file} is gone; see build.mjs` }] };
      resourceImpl.add(file);
      return { path: file };
    });
    // By the importer's path, not only the files noted above: esbuild may reach ResourceImpl.mjs
    // first through the index (from resource.ts), before any import was redirected to it.
    const RESOURCE_IMPL = path.join('@opentelemetry', 'resources', 'dist', 'ResourceImpl.mjs');
    b.onResolve({ filter: /^#platform$/ }, (args) => {
      if (!resourceImpl.has(args.importer) && !args.importer.endsWith(RESOURCE_IMPL)) return undefined;
      const file = path.join(path.dirname(args.importer), 'detectors/platform/node/default-service-name.mjs');
      if (!existsSync(file)) return { errors: [{ text: `lean-otel-resources: ${file} is gone; see build.mjs` }] };
      return { path: file };
    });
  },
};

rmSync('dist', { recursive: true, force: true });
const result = await build({
  entryPoints: ['register.ts'],
  outfile: 'dist/register.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['import-in-the-middle', 'import-in-the-middle/*', 'require-in-the-middle', '@sentry/*'],
  logLevel: 'warning',
  legalComments: 'eof',
  metafile: true,
  plugins: [sharedApi, leanResources],
  define: { __BUNDLED_OTEL_API_VERSION__: JSON.stringify(BUNDLED_API_VERSION) },
});
// The preload entry exports nothing; its types say so.
writeFileSync('dist/register.d.ts', 'export {};\n');

const bundled = bundledPackages(result.metafile);
const twice = [...bundled.values()].filter((copies) => copies.length > 1);
if (twice.length > 0) {
  const lines = twice.map((copies) => `  ${copies[0].name}: ${copies.map((c) => `${c.version} (${c.dir})`).join(', ')}`);
  console.error(`build: these packages are bundled more than once; align their versions (package.json "overrides"):\n${lines.join('\n')}`);
  process.exit(1);
}
const packages = [...bundled.values()].map(([only]) => only).sort((a, b) => (a.name < b.name ? -1 : 1));
writeFileSync('dist/THIRD-PARTY-NOTICES', notices(packages));
writeFileSync('dist/sbom.cdx.json', JSON.stringify(sbom(packages), null, 2) + '\n');

/** Every npm package with a file in the bundle, by name: one entry per installed copy. */
function bundledPackages(metafile) {
  const byName = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input);
    if (!match) continue;
    const [, dir, name] = match;
    const copies = byName.get(name) ?? [];
    if (copies.some((c) => c.dir === dir)) continue;
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    copies.push({ name, version: pkg.version, license: licenseOf(pkg), dir });
    byName.set(name, copies);
  }
  return byName;
}

function licenseOf(pkg) {
  if (typeof pkg.license === 'string') return pkg.license;
  if (pkg.license && typeof pkg.license.type === 'string') return pkg.license.type;
  return 'UNKNOWN';
}

function notices(list) {
  const header =
    '@tutor/otel-agent bundles the following third-party packages into dist/register.js.\n' +
    'Each is listed with its version, licence and the licence and notice texts it ships.\n';
  const sections = list.map((pkg) => {
    // Licence files at the package's root, and those of code it vendors (a LICENSES folder).
    const files = readdirSync(pkg.dir)
      .filter((f) => /^(licen[cs]e|notice|copying)/i.test(f))
      .flatMap((f) => filesUnder(path.join(pkg.dir, f)));
    const texts = files.map((file) => {
      const text = readFileSync(file, 'utf8').trim();
      const where = path.relative(pkg.dir, file);
      return where.includes(path.sep) ? `(${where}, code the package vendors)\n\n${text}` : text;
    });
    const body = texts.length > 0 ? texts.join('\n\n') : `(the package ships no licence file; its package.json declares ${pkg.license})`;
    return `${'-'.repeat(78)}\n${pkg.name}@${pkg.version} (${pkg.license})\n${'-'.repeat(78)}\n\n${body}\n`;
  });
  return [header, ...sections].join('\n');
}

function filesUnder(file) {
  if (!statSync(file).isDirectory()) return [file];
  return readdirSync(file).flatMap((inner) => filesUnder(path.join(file, inner)));
}

/** `npm sbom` of the project, narrowed to what a user's install holds: the bundle's packages and the runtime dependencies. */
function sbom(list) {
  const full = JSON.parse(execFileSync('npm', ['sbom', '--sbom-format', 'cyclonedx'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
  const own = JSON.parse(readFileSync('package.json', 'utf8'));
  const bundledRefs = new Set(list.map((p) => `${p.name}@${p.version}`));
  const runtimeRefs = new Set(runtimeClosure(full, RUNTIME_EXTERNALS));
  const keep = (ref) => bundledRefs.has(ref) || runtimeRefs.has(ref);
  const components = full.components
    .filter((c) => keep(c['bom-ref']))
    .map((c) => ({
      ...c,
      scope: 'required',
      properties: [
        ...(c.properties ?? []).filter((p) => p.name !== 'cdx:npm:package:development' && p.name !== 'cdx:npm:package:path'),
        { name: 'cdx:npm:package:bundled', value: String(bundledRefs.has(c['bom-ref'])) },
      ],
    }));
  const missing = [...bundledRefs].filter((ref) => !components.some((c) => c['bom-ref'] === ref));
  if (missing.length > 0) {
    console.error(`build: npm sbom does not list these bundled packages: ${missing.join(', ')}`);
    process.exit(1);
  }
  const rootRef = `${own.name}@${own.version}`;
  return {
    ...full,
    metadata: { ...full.metadata, component: { ...full.metadata.component, name: own.name } },
    components,
    dependencies: [
      { ref: rootRef, dependsOn: components.map((c) => c['bom-ref']) },
      ...full.dependencies.filter((d) => keep(d.ref)).map((d) => ({ ref: d.ref, dependsOn: d.dependsOn.filter(keep) })),
    ],
  };
}

/** The runtime dependencies and everything they depend on, as SBOM refs. */
function runtimeClosure(full, names) {
  const edges = new Map(full.dependencies.map((d) => [d.ref, d.dependsOn]));
  const rootDeps = edges.get(full.metadata.component['bom-ref']) ?? [];
  const queue = rootDeps.filter((ref) => names.some((n) => ref.startsWith(`${n}@`)));
  const seen = new Set();
  while (queue.length > 0) {
    const ref = queue.pop();
    if (seen.has(ref)) continue;
    seen.add(ref);
    queue.push(...(edges.get(ref) ?? []));
  }
  if (!existsSync('package-lock.json')) console.error('build: no package-lock.json; the SBOM lists what node_modules holds');
  return [...seen];
}
