// ESLint flat config: typescript-eslint's recommended rules over src, test and bench, and the
// layers of src pointing one way: cli/web -> infer/train/eval -> data/native/weights -> util. Within the
// middle layer train and infer stay apart (both may use eval; eval uses neither).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const PARTS = ['cli', 'web', 'infer', 'train', 'eval', 'data', 'native', 'weights', 'util'];

/** What each part of src may not import, and the layer rule it would break. */
const FORBIDDEN = {
  util: ['cli', 'web', 'infer', 'train', 'eval', 'data', 'native', 'weights'],
  data: ['cli', 'web', 'infer', 'train', 'eval', 'weights'],
  native: ['cli', 'web', 'infer', 'train', 'eval', 'weights'],
  // Pretrained weight files: downloads and checks, beside data and native (it loads files through native).
  weights: ['cli', 'web', 'infer', 'train', 'eval', 'data'],
  eval: ['cli', 'web', 'infer', 'train', 'weights'],
  infer: ['cli', 'web', 'train'],
  train: ['cli', 'web', 'infer'],
  web: ['cli'],
  cli: [],
};

/** Files of a part: src/<part>/** and src/<part>.ts (src/native.ts, src/cli.ts). */
const filesOf = (part) => [`src/${part}/**/*.ts`, `src/${part}.ts`];

/** Relative specifiers reaching src/<part>: '../part', '../../part/x', and './part' from src/*.ts. */
function layerZones() {
  return PARTS.map((part) => {
    const banned = FORBIDDEN[part];
    if (banned.length === 0) return null;
    const group = banned.join('|');
    const up = `^(\\.\\./)+(${group})(/|$)`;
    const beside = `^\\./(${group})(/|$)`;
    const message = `src/${part} may not import ${banned.join(', ')}: layers point cli/web -> infer/train/eval -> data/native/weights -> util (docs/ARCHITECTURE.md).`;
    // no-restricted-imports sees import/export ... from; import() needs a syntax selector.
    const dynamic = (regex) => ({ selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\/')}/]`, message });
    return {
      files: filesOf(part),
      rules: {
        'no-restricted-imports': ['error', { patterns: [{ regex: up, message }, { regex: beside, message }] }],
        'no-restricted-syntax': ['error', dynamic(up), dynamic(beside)],
      },
    };
  }).filter(Boolean);
}

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'runs/**', 'models/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layerZones(),
);
