import { create } from 'zustand';
import type { SystemInfo } from '../../shared/contract';
import type { DoctorReport } from '../../shared/domain';
import type { ConnectionState } from '../api';

export interface SystemState {
  info: SystemInfo | null;
  connection: ConnectionState;
  doctor: DoctorReport | null;
  doctorStatus: 'idle' | 'running' | 'done' | 'error';
  doctorError: string | null;
  doctorCheckedAt: string | null;
}

export const initialSystemState: SystemState = {
  info: null,
  connection: 'connecting',
  doctor: null,
  doctorStatus: 'idle',
  doctorError: null,
  doctorCheckedAt: null,
};

/** The host, the connection and the last doctor report. */
export const useSystemStore = create<SystemState>()(() => ({ ...initialSystemState }));
