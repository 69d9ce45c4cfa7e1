import type { Migration } from './types';

/**
 * Frozen once shipped. Where a job's latest attempt runs or ran when the queues work on a Ray
 * cluster (issue 16): the node's address and id, shown by the Jobs panel, `sfa jobs` and
 * `sfa cluster status` (in-flight jobs per node). NULL: on this machine.
 */
export const m009JobNodes: Migration = {
  version: 9,
  name: 'job_nodes',
  sql: `
ALTER TABLE jobs ADD COLUMN node_ip TEXT;
ALTER TABLE jobs ADD COLUMN node_id TEXT;
`,
};
