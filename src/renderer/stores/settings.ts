import { create } from 'zustand';
import type { ModelInfo, ModelProgress } from '../../shared/contract';
import type { Settings } from '../../shared/domain';

export interface SettingsState {
  settings: Settings | null;
  models: ModelInfo[] | null;
  modelsDir: string | null;
  downloads: Record<string, ModelProgress>;
}

export const initialSettingsState: SettingsState = { settings: null, models: null, modelsDir: null, downloads: {} };

export const useSettingsStore = create<SettingsState>()(() => ({ ...initialSettingsState }));
