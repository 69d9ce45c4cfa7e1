import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
    // Renderer tests opt into jsdom with a `// @vitest-environment jsdom` comment.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    globalSetup: ['src/test/global-setup.ts'],
    // Sidecars spawned by tests run HTDemucs in PyTorch: OpenVINO's per-machine verdict would make
    // stems compared across processes (the cluster's "bit for bit") depend on it. python/tests
    // test the OpenVINO path (test_separate_openvino.py).
    env: { SFA_OPENVINO: '0' },
  },
});
