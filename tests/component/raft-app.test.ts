/**
 * The app shell shows the Raft panels only for runs with Raft replicas, and keeps them in step with the run: the
 * trace follows steps and seeks through the same port the rest of the app uses.
 */
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import App from '../../src/views/App.svelte';
import { localPort } from '../../src/views/port.ts';

afterEach(() => {
  cleanup();
  history.replaceState(null, '', '#');
});

describe('App with Raft', () => {
  it('ping-pong has no Raft panels', async () => {
    render(App, { props: { port: localPort(new Lab()), syncHash: false, initial: { scenario: 'ping-pong', seed: 'abc' } } });
    await waitFor(() => expect(document.body.dataset.ready).toBe('true'));
    expect(screen.queryByTestId('raft-panels')).toBeNull();
  });

  it('a Raft run shows logs, elections and space-time that follow steps and seeks', async () => {
    render(App, { props: { port: localPort(new Lab()), syncHash: false, initial: { scenario: 'raft-leader-crash', seed: '1' } } });
    await waitFor(() => expect(screen.getByTestId('raft-panels')).not.toBeNull());
    for (const id of ['replica-logs', 'elections', 'space-time']) expect(screen.getByTestId(id)).not.toBeNull();
    expect(screen.getAllByTestId(/^log-head-r\d$/)).toHaveLength(5);
    expect(screen.queryAllByTestId('band').filter((b) => b.dataset.role === 'leader')).toHaveLength(0);

    await fireEvent.input(screen.getByTestId('seek'), { target: { value: '1000000' } });
    await waitFor(() => expect(screen.queryAllByTestId('band').filter((b) => b.dataset.role === 'leader')).toHaveLength(1), { timeout: 5000 });
    await waitFor(() => expect(screen.getAllByTestId('arrow').length).toBeGreaterThan(4));
    expect(screen.getAllByTestId('log-cell').length).toBeGreaterThan(50);

    // Back to the start: no leader yet, no entries.
    await fireEvent.input(screen.getByTestId('seek'), { target: { value: '100000' } });
    await waitFor(() => expect(screen.queryAllByTestId('band').filter((b) => b.dataset.role === 'leader')).toHaveLength(0));
    expect(screen.queryAllByTestId('log-cell')).toHaveLength(0);
  });
});
