import type { Client } from '../api';
import { useSystemStore } from '../stores';
import { errorText } from './notices';

export async function loadSystemInfo(client: Client): Promise<void> {
  try {
    useSystemStore.setState({ info: await client.request('system.info') });
  } catch {
    // shown as "unknown host" until the next connect
  }
}

export async function runDoctor(client: Client): Promise<void> {
  useSystemStore.setState({ doctorStatus: 'running', doctorError: null });
  try {
    const doctor = await client.request('system.doctor');
    useSystemStore.setState({ doctor, doctorStatus: 'done', doctorCheckedAt: new Date().toISOString() });
  } catch (error) {
    useSystemStore.setState({ doctorStatus: 'error', doctorError: errorText(error) });
  }
}
