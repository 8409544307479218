// Where the templates and static files are, both when run from src/ (tsx, tests) and from the
// compiled dist/src/ (npm start).
import * as fs from 'node:fs';
import * as path from 'node:path';

const up = path.resolve(__dirname, '..', '..');
// A checkout may itself be named dist: only a dist/ without views/ is the compiled output.
export const REPO_ROOT = path.basename(up) === 'dist' && !fs.existsSync(path.join(up, 'views')) ? path.dirname(up) : up;
export const VIEWS_DIR = path.join(REPO_ROOT, 'views');
export const STATIC_DIR = path.join(VIEWS_DIR, 'static');
