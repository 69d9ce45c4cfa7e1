import type { RequestParams } from '../../shared/contract';
import type { Client } from '../api';
import { useSettingsStore } from '../stores';
import { errorText, notify } from './notices';

export async function loadSettings(client: Client): Promise<void> {
  try {
    useSettingsStore.setState({ settings: await client.request('settings.get') });
  } catch (error) {
    notify('error', 'Could not load the settings', [errorText(error)]);
  }
}

export async function saveSettings(client: Client, patch: RequestParams<'settings.set'>): Promise<boolean> {
  try {
    useSettingsStore.setState({ settings: await client.request('settings.set', patch) });
    return true;
  } catch (error) {
    notify('error', 'Could not save the settings', [errorText(error)]);
    return false;
  }
}

export async function loadModels(client: Client): Promise<void> {
  try {
    const { dir, models } = await client.request('models.list');
    useSettingsStore.setState({ models, modelsDir: dir });
  } catch (error) {
    useSettingsStore.setState({ models: [] });
    notify('error', 'Could not list the models', [errorText(error)]);
  }
}

export async function downloadModel(client: Client, name: string): Promise<void> {
  useSettingsStore.setState((s) => ({ downloads: { ...s.downloads, [name]: { name, percent: 0, bytes: 0, total: null } } }));
  try {
    await client.request('models.download', { name });
    notify('success', `Model ${name} is installed`);
  } catch (error) {
    notify('error', `Could not download ${name}`, [errorText(error)]);
  } finally {
    useSettingsStore.setState((s) => {
      const downloads = { ...s.downloads };
      delete downloads[name];
      return { downloads };
    });
    await loadModels(client);
  }
}
