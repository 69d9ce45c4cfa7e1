import type { PipelineStep } from '../../shared/domain';
import type { Client } from '../api';
import { useUiStore } from '../stores';
import { errorText, notify } from './notices';

export async function removeTracks(client: Client, ids: string[]): Promise<void> {
  try {
    const { removed } = await client.request('library.remove', { ids });
    const gone = new Set(removed);
    // The engine's library:changed reloads the table's rows.
    useUiStore.setState((s) => ({ selected: new Set([...s.selected].filter((id) => !gone.has(id))) }));
    notify('success', `Removed ${removed.length} ${removed.length === 1 ? 'track' : 'tracks'} (your audio files were not touched)`);
  } catch (error) {
    notify('error', 'Could not remove the tracks', [errorText(error)]);
  }
}

export async function runPipeline(client: Client, ids: string[], steps: PipelineStep[], model?: string): Promise<void> {
  try {
    const { jobIds } = await client.request('pipeline.run', { ids, steps, ...(model ? { model } : {}) });
    const what = steps.includes('separate') ? `Separation${model ? ` with ${model}` : ''}` : 'Analysis';
    notify('info', `${what} queued for ${ids.length} ${ids.length === 1 ? 'track' : 'tracks'} (${jobIds.length} jobs)`);
  } catch (error) {
    notify('error', 'Could not queue the work', [errorText(error)]);
  }
}

/** Saves text as a file in the browser (and Electron's renderer): a Blob behind a temporary link. */
export function saveText(content: string, filename: string, type: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function exportAnalysis(client: Client, format: 'csv' | 'json', ids?: string[]): Promise<void> {
  try {
    const result = await client.request('export.analysis', { format, ...(ids ? { ids } : {}) });
    if (result.count === 0) {
      notify('error', 'Nothing to export', [ids ? 'None of the selected tracks has been analysed yet.' : 'No track has been analysed yet.']);
      return;
    }
    saveText(result.content, result.filename, format === 'csv' ? 'text/csv' : 'application/json');
    notify('success', `Exported the analysis of ${result.count} ${result.count === 1 ? 'track' : 'tracks'} as ${format.toUpperCase()}`);
  } catch (error) {
    notify('error', 'Could not export the analysis', [errorText(error)]);
  }
}

/** Desktop: pick a folder, copy the chosen stems (and an instrumental mix) there. */
export async function exportStemsToFolder(client: Client, trackId: string, stems: string[], instrumental: boolean): Promise<void> {
  if (!client.desktop) return;
  const dir = await client.desktop.chooseFolder();
  if (!dir) return;
  try {
    const { files } = await client.request('export.stems', { trackId, stems, dir, instrumental });
    notify('success', `Exported ${files.length} ${files.length === 1 ? 'file' : 'files'} to ${dir}`);
  } catch (error) {
    notify('error', 'Could not export the stems', [errorText(error)]);
  }
}
