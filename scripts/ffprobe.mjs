/**
 * ffprobe for the tests that read back the NI Stems files we write (stempeg and the checks in
 * python/tests/test_stem_files.py need it; the bundled imageio-ffmpeg has no ffprobe). The app
 * itself never needs it. Found on the PATH, or, as root on Debian/Ubuntu, installed from the OS
 * package (`apt-get install ffmpeg`), the same way scripts/browser.mjs gets a Chromium.
 */
import { isDebianLike, realIo } from './browser.mjs';

/** The one line setup prints when no ffprobe can be had: exactly what to run. */
export function missingFfprobeMessage(io = realIo()) {
  const apt = io.platform === 'linux' && isDebianLike(io) ? `${io.isRoot ? '' : 'sudo '}apt-get install -y ffmpeg` : null;
  return `no ffprobe on the PATH: the NI Stems read-back tests will be skipped (with this reason). Install FFmpeg's ffprobe${apt ? ` (\`${apt}\`)` : ''}, then \`npm test\` again.`;
}

/** `io.which(name)`: the executable on the PATH, or null. */
export function provisionFfprobe(io = realIo()) {
  if (io.which('ffprobe')) return true;
  if (io.isRoot && io.platform === 'linux' && isDebianLike(io)) {
    io.log('ffprobe: trying the OS package (apt-get install ffmpeg)');
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    if (io.run('apt-get', ['update'], { env }) === 0 && io.run('apt-get', ['install', '-y', '--no-install-recommends', 'ffmpeg'], { env }) === 0 && io.which('ffprobe')) return true;
  }
  io.log(`ffprobe: WARNING ${missingFfprobeMessage(io)}`);
  return false;
}
