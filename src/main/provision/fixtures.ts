/**
 * Test fixtures for the provisioning core: a base Python 3.11, tiny wheels pip really installs,
 * and a stand-in `sfa_sidecar` answering `doctor` without torch. Shared by the provision tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REQUIRED_IMPORTS } from '../../../scripts/provision/index.mjs';
import { appRoot } from '../paths';

const isWindows = process.platform === 'win32';
const devPython = join(appRoot(), 'python', '.venv', isWindows ? 'Scripts/python.exe' : 'bin/python');
export const basePython = process.env.SFA_BOOTSTRAP_PYTHON ?? (existsSync(devPython) ? devPython : 'python3.11');

/** A minimal pure-Python wheel, zipped by Python's zipfile (a wheel is a zip with a RECORD). */
export function writeWheel(dir: string, name: string, version: string): string {
  mkdirSync(dir, { recursive: true });
  const script = `
import base64, hashlib, sys, zipfile
name, version, out = sys.argv[1], sys.argv[2], sys.argv[3]
dist = f"{name}-{version}.dist-info"
files = {
  f"{name}/__init__.py": f"VERSION = {version!r}\\n",
  f"{dist}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
  f"{dist}/WHEEL": "Wheel-Version: 1.0\\nGenerator: sfa-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
path = f"{out}/{name}-{version}-py3-none-any.whl"
with zipfile.ZipFile(path, "w") as z:
  for p, text in files.items():
    data = text.encode()
    z.writestr(p, data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{p},sha256={digest},{len(data)}")
  record.append(f"{dist}/RECORD,,")
  z.writestr(f"{dist}/RECORD", "\\n".join(record) + "\\n")
print(path)
`;
  const r = spawnSync(basePython, ['-c', script, name, version, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

/** Lock lines for the stand-ins of what `verify` imports (torch, demucs, librosa). */
export const REQUIRED_PINS = REQUIRED_IMPORTS.map((name) => `${name}==0.0.1\n`).join('');

/** Tiny wheels named torch, demucs and librosa: `verify` really imports them. */
export function writeRequiredWheels(wheelsDir: string): void {
  for (const name of REQUIRED_IMPORTS) writeWheel(wheelsDir, name, '0.0.1');
}

/** A stand-in `sfa_sidecar` that answers hello and doctor like the real one, without torch. */
export function writeFakeSidecar(dir: string, versions: Record<string, string | null>): string {
  const literal = JSON.stringify(versions).replaceAll('null', 'None');
  mkdirSync(join(dir, 'sfa_sidecar'), { recursive: true });
  writeFileSync(join(dir, 'sfa_sidecar', '__init__.py'), '');
  writeFileSync(
    join(dir, 'sfa_sidecar', '__main__.py'),
    `import json, sys
print(json.dumps({"type": "hello", "protocol": 1, "versions": ${literal}}), flush=True)
for line in sys.stdin:
    m = json.loads(line)
    if m.get("type") == "request":
        print(json.dumps({"type": "result", "id": m["id"], "result": {"versions": ${literal}, "devices": [], "ffmpeg": sys.executable}}), flush=True)
    if m.get("type") == "shutdown":
        break
`,
  );
  return dir;
}
