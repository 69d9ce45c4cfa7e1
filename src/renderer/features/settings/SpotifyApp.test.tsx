// @vitest-environment jsdom
/** The Spotify app form: the secret goes to settings.set once and is never shown or sent back. */
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Settings } from '../../../shared/domain';
import { createActions } from '../../actions';
import { ActionsProvider } from '../../actions/context';
import { resetStores, useSettingsStore } from '../../stores';
import { defaultSettings, fakeEngine } from '../../test/fakeEngine';
import { SpotifyApp } from './SpotifyApp';

beforeEach(() => resetStores());
afterEach(() => cleanup());

describe('<SpotifyApp>', () => {
  it('sends the client id and secret, then shows only that a secret is stored; Remove clears both', async () => {
    const engine = fakeEngine();
    const sent: unknown[] = [];
    let current: Settings = { ...defaultSettings, spotify: { clientId: null, clientSecretStored: false, secretStore: 'os' } };
    engine.handlers['settings.set'] = (params) => {
      sent.push(params);
      const { spotify } = params as { spotify: { clientId: string | null; clientSecret?: string } };
      current = { ...current, spotify: { clientId: spotify.clientId, clientSecretStored: spotify.clientId !== null && (!!spotify.clientSecret || current.spotify!.clientSecretStored), secretStore: 'os' } };
      return current;
    };
    useSettingsStore.setState({ settings: current });
    render(
      <ActionsProvider actions={createActions(engine.client)}>
        <SpotifyApp />
      </ActionsProvider>,
    );
    expect(screen.getByRole('status').textContent).toBe("Using spotdl's shared app.");
    const save = screen.getByRole('button', { name: 'Save Spotify app' }) as HTMLButtonElement;
    fireEvent.change(screen.getByLabelText('Spotify client ID'), { target: { value: 'a'.repeat(32) } });
    expect(save.disabled).toBe(true); // no secret yet
    fireEvent.change(screen.getByLabelText('Spotify client secret'), { target: { value: 'b'.repeat(32) } });
    fireEvent.click(save);
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe(`Using your app ${'a'.repeat(32)}; secret stored in your system's credential store.`));
    expect(sent).toEqual([{ spotify: { clientId: 'a'.repeat(32), clientSecret: 'b'.repeat(32) } }]);
    expect((screen.getByLabelText('Spotify client secret') as HTMLInputElement).value).toBe('');
    fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe("Using spotdl's shared app."));
    expect(sent[1]).toEqual({ spotify: { clientId: null } });
  });
});
