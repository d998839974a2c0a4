/**
 * The capacity calculator in jsdom: the notes' default sizing and its steps on screen, the answer following an edit,
 * a wrong entry explained under its own field (marked invalid, the last valid numbers kept and marked stale), an
 * input no back-of-envelope can answer, and the preset button opening the scenario the calculator is tied to.
 */
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import CapacityCalculator from '../../src/views/CapacityCalculator.svelte';

const text = (id: string) => screen.getByTestId(id).textContent?.replace(/\s+/g, ' ').trim();
const input = (field: string) => screen.getByTestId(`cap-${field}`) as HTMLInputElement;

afterEach(() => cleanup());

describe('CapacityCalculator', () => {
  it('opens on the notes’ numbers: 320 MB/s → 4 partitions → 12 brokers, each step written out', () => {
    render(CapacityCalculator, { props: { onpreset: () => {} } });
    expect(input('servers').value).toBe('10000');
    expect(input('metricsPerServer').value).toBe('2000');
    expect(text('cap-answer')).toBe('320 MB/s → 4 partitions → 12 brokers');
    const steps = [...screen.getByTestId('cap-steps').querySelectorAll('li')].map((li) => li.textContent);
    expect(steps[0]).toBe('10,000 servers × 2,000 metrics × 16 B = 320 MB/s (MB = 10^6 bytes)');
    expect(steps).toContain('320 MB/s ÷ 100 MB/s = 3.2 → 4 partitions (round up: one partition\'s leader takes all its writes on one broker).');
    expect(steps.join('\n')).toContain('4 partitions × 3 replicas = 12 brokers');
    expect(screen.queryByTestId('cap-preset-differs')).toBeNull();
    expect((screen.getByTestId('cap-reset') as HTMLButtonElement).disabled).toBe(true);
  });

  it('follows an edit: twice the servers → 640 MB/s → 7 partitions → 21 brokers; the preset note says it differs', async () => {
    render(CapacityCalculator, { props: { onpreset: () => {} } });
    await fireEvent.input(input('servers'), { target: { value: '20,000' } });
    expect(text('cap-answer')).toBe('640 MB/s → 7 partitions → 21 brokers');
    expect(text('cap-steps')).toContain('640 MB/s ÷ 100 MB/s = 6.4 → 7 partitions');
    expect(text('cap-preset-differs')).toContain('Your numbers size a different queue (7 partitions, 21 brokers)');
    await fireEvent.input(input('headroomPercent'), { target: { value: '20' } });
    expect(text('cap-answer')).toBe('640 MB/s → 8 partitions → 24 brokers');
    await fireEvent.click(screen.getByTestId('cap-reset'));
    expect(text('cap-answer')).toBe('320 MB/s → 4 partitions → 12 brokers');
    expect(input('servers').value).toBe('10000');
  });

  it('shows a wrong entry under its field, marks it invalid, and keeps the last valid numbers marked stale', async () => {
    render(CapacityCalculator, { props: { onpreset: () => {} } });
    await fireEvent.input(input('servers'), { target: { value: '20000' } });
    await fireEvent.input(input('replicationFactor'), { target: { value: '2' } });
    expect(text('cap-error-replicationFactor')).toBe(
      'Replicas per partition: must be one of 1, 3, 5, 7 (an odd count: 2f + 1 replicas keep a majority through f failures), got 2',
    );
    expect(input('replicationFactor').getAttribute('aria-invalid')).toBe('true');
    expect(input('replicationFactor').getAttribute('aria-describedby')).toBe('cap-replicationFactor-error');
    expect(input('servers').getAttribute('aria-invalid')).toBe('false');
    expect(text('cap-answer')).toBe('640 MB/s → 7 partitions → 21 brokers');
    expect(screen.getByTestId('cap-answer').classList.contains('stale')).toBe(true);
    expect(text('cap-stale')).toContain('last valid numbers');

    await fireEvent.input(input('bytesPerMetric'), { target: { value: '16 bytes' } });
    expect(text('cap-error-bytesPerMetric')).toBe('Bytes per sample: "16 bytes" is not a number: write digits, e.g. 10000 or 10,000 or 0.5');
    await fireEvent.input(input('replicationFactor'), { target: { value: '5' } });
    await fireEvent.input(input('bytesPerMetric'), { target: { value: '16' } });
    expect(screen.queryByTestId('cap-error-replicationFactor')).toBeNull();
    expect(screen.queryByTestId('cap-stale')).toBeNull();
    expect(text('cap-answer')).toBe('640 MB/s → 7 partitions → 35 brokers');
  });

  it('an input that needs more partitions than a back-of-envelope allows is explained for the whole form', async () => {
    render(CapacityCalculator, { props: { onpreset: () => {} } });
    await fireEvent.input(input('brokerMBps'), { target: { value: '0.001' } });
    expect(text('cap-form-error')).toBe('320 MB/s over 0.001 MB/s brokers needs 320,000 partitions, more than 100,000');
    expect(text('cap-answer')).toBe('320 MB/s → 4 partitions → 12 brokers');
  });

  it('the preset button opens apm-capacity and says it is scaled 1:500', async () => {
    const opened: string[] = [];
    render(CapacityCalculator, { props: { onpreset: (id: string) => opened.push(id) } });
    expect(text('cap-open-preset')).toBe('Run the preset (scaled 1:500)');
    expect(text('cap-preset')).toContain('20 servers × 4 metrics = 80 samples/s, with the same 4 partitions × 3 replicas = 12 brokers');
    expect(text('cap-preset')).toContain('1:250,000 of the traffic');
    await fireEvent.click(screen.getByTestId('cap-open-preset'));
    expect(opened).toEqual(['apm-capacity']);
  });

  it('without a way to open runs the preset button is disabled', () => {
    render(CapacityCalculator, { props: {} });
    expect((screen.getByTestId('cap-open-preset') as HTMLButtonElement).disabled).toBe(true);
  });
});
