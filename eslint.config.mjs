// ESLint (flat config): @eslint/js and typescript-eslint `recommended`, with type information
// for the TypeScript files (the type-aware run of `eslint .` takes 8-18 s on 2 cores). Every rule switched
// off below says why.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cache/', 'test-results/', 'coverage/'] },

  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2023,
      globals: { ...globals.node },
      parserOptions: {
        // src/ and register.ts come from tsconfig.json, the tests from tsconfig.test.json.
        project: ['./tsconfig.json', './tsconfig.test.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Names starting with `_` are deliberately unused (callback signatures that must keep a
      // parameter's position, `{ key: _key, ...rest }` to leave a property out).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Off: the code is written as if noUncheckedIndexedAccess were on (`tsc --noUncheckedIndexedAccess`
      // passes on src/): `xs[i]!` and `xs[i] as string` state that an index is in range, and this rule
      // would strip exactly those. Turn it back on together with that compiler option.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },

  // Plain JavaScript (build.mjs, examples/, monitoring/**/*.mjs, test fixtures and bench scripts):
  // no type information for these.
  { files: ['**/*.{js,mjs,cjs}'], ...tseslint.configs.disableTypeChecked },

  {
    files: ['register.ts', 'src/**/*.ts'],
    rules: {
      // Off for the agent: it defers loading with `require` on purpose. Tracing, Sentry, the AI
      // meters, the pg/Redis probes and the endpoint server are `require`d only when the config
      // turns them on, so an agent with them off never pays their load time (register.ts must not
      // load anything heavy before preflight says the agent starts); a static `import` would load
      // them all at start.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    rules: {
      // Off: .cjs files are CommonJS; `require` is their module system.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Off in tests: they read parsed JSON and YAML (Prometheus, Alertmanager and Grafana files,
      // OTLP and Sentry payloads, /health bodies) and check them with assertions; typing every such
      // document would repeat what the assertions already check.
      '@typescript-eslint/no-explicit-any': 'off',
      // Off in tests for the same reason: these rules flag every use of such `any` values.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
