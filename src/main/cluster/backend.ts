import type { ClusterStatus } from '../../shared/contract';
import { toErrorInfo } from '../../shared/errors';
import type { Db } from '../db/connection';
import type { Logger } from '../log';
import { SidecarPool } from '../sidecar/pool';
import type { SidecarOptions } from '../sidecar/process';
import { activeClusterAddress, driverOptions, LOCAL_VARS, type ClusterAddress, type ClusterSettings } from './config';
import { unreachableDelay, type JobNode } from './placement';

export type ClusterQueue = 'processing' | 'analysis';

/** What the workers ask of the cluster backend (WorkerDeps.cluster). */
export interface ClusterWork {
  /** True while this queue's sidecars are cluster drivers. */
  active(queue: ClusterQueue): boolean;
  /** Where a job's current attempt runs (null: not known yet / this machine). */
  recordNode(jobId: number, node: JobNode | null): void;
  /** Seconds a job waits for an unreachable cluster after `waits` earlier waits. */
  unreachableDelay(waits: number): number;
}

/** The driver's `cluster_status` reply (CLUSTER-INTERFACE.md). */
interface DriverStatus {
  address: string;
  connected: boolean;
  error?: string;
  nodes?: { nodeId: string; ip: string; alive: boolean; cpus: number; gpus: number }[];
  actors?: { kind: string; nodeId: string; state: string }[];
  cpus?: number;
  gpus?: number;
  suggested?: { processing: number; analysis: number };
}

export interface ClusterBackendOptions {
  db: Db;
  logger: Logger;
  /** The queue pools whose processes become drivers, with what they run locally. */
  pools: Record<ClusterQueue, { pool: SidecarPool; localArgs: string[] }>;
  /** The options every sidecar shares (environment, base variables): the status driver's too. */
  base: Pick<SidecarOptions, 'env' | 'logger' | 'vars'>;
  /** `--cluster` of the CLI (first in precedence). */
  cliAddress: string | null;
  settings: () => ClusterSettings;
  /** The stored token (the host's secret store); env SFA_RAY_TOKEN wins. */
  storedToken: () => string | null;
  /** Queue limits: set on the scheduler and the pool. */
  scaleQueue: (queue: ClusterQueue, limit: number) => void;
  /** The queue limits to return to when work goes back to this machine. */
  localConcurrency: () => Record<ClusterQueue, number>;
  /** Follow the cluster's suggested concurrency (only where this process works the queues). */
  followResources: boolean;
  /** Waits for an unreachable cluster (tests shorten them). */
  retryDelay?: (waits: number) => number;
}

const QUEUES: ClusterQueue[] = ['processing', 'analysis'];
/** How often a backend that could not read the cluster's resources asks again. */
const STATUS_RETRY_MS = 30_000;

/**
 * Switches the processing and analysis pools between local sidecars and cluster drivers, keeps
 * their queue concurrency in step with the cluster's resources, and records where jobs run
 * (jobs.node_ip / node_id, migration 009). The scheduler never knows: a claimed job's work just
 * runs in another kind of process.
 */
export class ClusterBackend implements ClusterWork {
  private current: ClusterAddress | null = null;
  private statusPool: SidecarPool | null = null;
  private suggested: Record<ClusterQueue, number> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly stmts;

  constructor(private readonly o: ClusterBackendOptions) {
    this.stmts = {
      record: o.db.prepare('UPDATE jobs SET node_ip = ?, node_id = ? WHERE id = ?'),
      running: o.db.prepare(`SELECT id, worker, track_id, node_ip, node_id, progress, progress_message FROM jobs
        WHERE state = 'executing' AND queue IN ('processing', 'analysis') ORDER BY id`),
    };
  }

  /** The address in use (null: this machine). Throws CLUSTER_ADDRESS for a bad one from any source. */
  resolve(): ClusterAddress | null {
    return activeClusterAddress({ cli: this.o.cliAddress, env: process.env.SFA_RAY_ADDRESS, setting: this.o.settings().address });
  }

  get address(): ClusterAddress | null {
    return this.current;
  }

  token(): string | null {
    return process.env.SFA_RAY_TOKEN?.trim() || this.o.storedToken();
  }

  active(_queue: ClusterQueue): boolean {
    return this.current !== null;
  }

  unreachableDelay(waits: number): number {
    return (this.o.retryDelay ?? unreachableDelay)(waits);
  }

  recordNode(jobId: number, node: JobNode | null): void {
    try {
      this.stmts.record.run(node?.ip ?? null, node?.id ?? null, jobId);
    } catch (error) {
      this.o.logger.warn(`cluster: where job ${jobId} runs was not recorded: ${(error as Error).message}`);
    }
  }

  /**
   * Apply the address from its sources now (at start and after a settings change): the pools'
   * processes are replaced as they come idle (running jobs finish where they are).
   */
  apply(): void {
    const next = this.resolve();
    const settings = this.o.settings();
    const token = this.token();
    const changed = next?.address !== this.current?.address;
    this.current = next;
    for (const queue of QUEUES) {
      const { pool, localArgs } = this.o.pools[queue];
      if (next) pool.update(driverOptions(next.address, token, settings.threads));
      else pool.update({ args: localArgs, vars: LOCAL_VARS });
    }
    if (next) {
      const driver = driverOptions(next.address, token, settings.threads);
      if (!this.statusPool) this.statusPool = new SidecarPool('cluster', 1, { ...this.o.base, args: driver.args, vars: { ...this.o.base.vars, ...driver.vars } });
      else this.statusPool.update(driver);
    }
    if (changed) this.suggested = null;
    if (!next) {
      clearTimeout(this.retryTimer);
      void this.statusPool?.close();
      this.statusPool = null;
      if (changed) for (const queue of QUEUES) this.o.scaleQueue(queue, this.o.localConcurrency()[queue]);
      return;
    }
    this.applyConcurrency();
    if (this.o.followResources && !this.suggested) void this.refresh();
  }

  /** The queues' limits on the cluster: the override, else what the cluster suggests (once known). */
  private applyConcurrency(): void {
    if (!this.current) return;
    const overrides = this.o.settings().concurrency;
    for (const queue of QUEUES) {
      const limit = overrides[queue] ?? this.suggested?.[queue];
      if (limit) this.o.scaleQueue(queue, limit);
    }
  }

  /** Ask the cluster for its resources; until it answers, the queues keep their limits and ask again later. */
  private async refresh(): Promise<void> {
    clearTimeout(this.retryTimer);
    const status = await this.driverStatus().catch((error: unknown) => ({ connected: false, error: toErrorInfo(error).message }) as DriverStatus);
    if (this.closed || !this.current) return;
    if (status.connected && status.suggested) {
      this.suggested = { processing: Math.max(1, status.suggested.processing), analysis: Math.max(1, status.suggested.analysis) };
      this.o.logger.info(`cluster ${this.current.address}: ${status.cpus ?? 0} CPUs, ${status.gpus ?? 0} GPUs; concurrency ${JSON.stringify(this.suggested)}`);
      this.applyConcurrency();
      return;
    }
    this.o.logger.warn(`cluster ${this.current.address}: resources unknown (${status.error ?? 'not connected'}); asking again in ${STATUS_RETRY_MS / 1000} s`);
    this.retryTimer = setTimeout(() => void this.refresh(), STATUS_RETRY_MS);
    this.retryTimer.unref?.();
  }

  private driverStatus(): Promise<DriverStatus> {
    if (!this.statusPool) return Promise.resolve({ address: '', connected: false, error: 'no cluster address' });
    return this.statusPool.run<DriverStatus>('cluster_status', { probe: true }, { timeoutMs: 60_000 });
  }

  /** `cluster.status`: the driver's view plus our jobs running on each node. */
  async status(): Promise<ClusterStatus> {
    const jobs = (this.stmts.running.all() as { id: number; worker: string; track_id: string | null; node_ip: string | null; node_id: string | null; progress: number | null; progress_message: string | null }[]).map((r) => ({
      id: r.id,
      worker: r.worker,
      trackId: r.track_id,
      node: r.node_ip && r.node_id ? { ip: r.node_ip, id: r.node_id } : null,
      progress: r.progress === null ? null : { percent: r.progress, message: r.progress_message },
    }));
    const concurrency = this.currentConcurrency();
    const address = this.current ?? this.resolve();
    if (!address) {
      return { address: null, source: null, connected: false, error: null, nodes: [], actors: [], cpus: 0, gpus: 0, suggested: null, concurrency, jobs };
    }
    if (!this.current) this.apply();
    const driver = await this.driverStatus().catch((error: unknown) => ({ address: address.address, connected: false, error: toErrorInfo(error).message }) as DriverStatus);
    if (driver.connected && driver.suggested && !this.suggested) {
      this.suggested = driver.suggested;
      if (this.o.followResources) this.applyConcurrency();
    }
    const nodes = (driver.nodes ?? []).map((n) => ({ ...n, inFlight: jobs.filter((j) => j.node && n.nodeId.startsWith(j.node.id)).length }));
    return {
      address: address.address,
      source: address.source,
      connected: driver.connected,
      error: driver.connected ? null : (driver.error ?? 'not connected'),
      nodes,
      actors: driver.actors ?? [],
      cpus: driver.cpus ?? 0,
      gpus: driver.gpus ?? 0,
      suggested: driver.suggested ?? null,
      concurrency,
      jobs,
    };
  }

  private currentConcurrency(): Record<ClusterQueue, number> {
    const local = this.o.localConcurrency();
    if (!this.current) return local;
    const overrides = this.o.settings().concurrency;
    return {
      processing: overrides.processing ?? this.suggested?.processing ?? local.processing,
      analysis: overrides.analysis ?? this.suggested?.analysis ?? local.analysis,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.statusPool?.close();
    this.statusPool = null;
  }
}
