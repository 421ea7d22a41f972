// Builds the prebuilt JupyterLab extension (../bivoice_jupyter/labextension) with the
// JupyterLab builder from npm (@jupyterlab/builder), against the core packages of the Python
// JupyterLab installed where `python` runs ($PYTHON, else python3): its staging package.json
// says which packages JupyterLab shares, so nothing is fetched from the network. (jupyter-builder's
// `jupyter-builder build` would download @jupyterlab/core-meta, which npm lacks for 4.5.x.)
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const python = process.env.PYTHON || 'python3';
let staging;
try {
  staging = execFileSync(
    python,
    ['-c', 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }
  ).trim();
} catch (err) {
  console.error(
    `error: JupyterLab (Python) is not importable by ${python}: ${String(err.stderr || err.message).trim().split('\n').pop()}\n` +
      "hint: run `make labextension` (it uses .venv), or set PYTHON to a Python with `pip install 'jupyterlab>=4.2'`"
  );
  process.exit(2);
}
if (!existsSync(join(staging, 'package.json'))) {
  console.error(`error: ${staging}/package.json is missing: is this JupyterLab 4 (pip install 'jupyterlab>=4.2')?`);
  process.exit(2);
}
const require = createRequire(import.meta.url);
const builder = join(dirname(require.resolve('@jupyterlab/builder/package.json')), 'lib', 'build-labextension.js');
const args = [builder, '--core-path', staging, ...process.argv.slice(2), '.'];
execFileSync(process.execPath, args, { stdio: 'inherit' });
// install.json tells `jupyter labextension list` which Python package installed the extension;
// the builder leaves it out of the output, and the wheel ships that folder as it is
const output = JSON.parse(readFileSync('package.json', 'utf8')).jupyterlab.outputDir;
copyFileSync('install.json', join(output, 'install.json'));
