/**
 * Settings: what a user changes about a scenario without writing one (config per node kind, the APM's stored queries).
 * They travel in links and what-if forks, so they are checked at the edge and a run loaded with them replays exactly.
 */
import { describe, expect, it } from 'vitest';
import { Lab, LabError } from '../../src/sim/lab.ts';
import { findScenario } from '../../src/scenarios/index.ts';
import { applySettings, parseSettings, SETTINGS_JSON_MAX } from '../../src/scenarios/settings.ts';
import { ScenarioError } from '../../src/scenarios/schema.ts';

describe('parseSettings', () => {
  it('accepts config per kind and stored queries, and nothing else', () => {
    expect(parseSettings({})).toEqual({});
    expect(parseSettings(undefined)).toEqual({});
    expect(parseSettings({ config: { 'mq-producer': { acks: 'leader' } } })).toEqual({ config: { 'mq-producer': { acks: 'leader' } } });
    expect(() => parseSettings({ theme: 'dark' })).toThrow(/settings\.\(top level\)|settings.*theme/);
  });

  it('names the field that is wrong', () => {
    expect(() => parseSettings({ config: { 'MQ producer': { acks: 'x' } } })).toThrow(/settings\.config/);
    expect(() => parseSettings({ config: { 'mq-producer': { 'bad key': 1 } } })).toThrow(/settings\.config\.mq-producer.bad key/);
    expect(() => parseSettings({ queries: [{ id: 'q', name: 'n' }] })).toThrow(/settings\.queries\[0\]\.text/);
    expect(() => parseSettings({ config: { 'mq-producer': { n: Number.NaN } } })).toThrow(ScenarioError);
  });

  it('refuses oversized settings before parsing them', () => {
    const huge = { config: { 'mq-producer': { note: 'x'.repeat(SETTINGS_JSON_MAX) } } };
    expect(() => parseSettings(huge)).toThrow(/characters of JSON; at most/);
  });
});

describe('applySettings', () => {
  it('merges config over every node of the kind and leaves the input alone', () => {
    const input = findScenario('mq-acks-quorum')!;
    const before = JSON.stringify(input);
    const out = applySettings(input, { config: { 'mq-producer': { acks: 'leader' } } });
    const producers = out.topology.nodes.filter((n) => n.kind === 'mq-producer');
    expect(producers.length).toBeGreaterThan(0);
    for (const p of producers) expect(p.config?.acks).toBe('leader');
    expect(JSON.stringify(input)).toBe(before);
  });

  it('refuses a kind the scenario does not have, listing the ones it has', () => {
    expect(() => applySettings(findScenario('raft-cold-start')!, { config: { 'mq-producer': { acks: 'leader' } } })).toThrow(/no node of that kind.*kinds: raft/);
  });

  it('rebuilds an APM pipeline for other stored queries: only their metrics are kept and get topics', () => {
    const input = findScenario('apm-baseline')!;
    const out = applySettings(input, { queries: [{ id: 'carts', name: 'Carts', text: 'FROM servers(web-*) SELECT carts WINDOW 5s COMPUTE max' }] });
    const ingest = out.topology.nodes.find((n) => n.kind === 'apm-ingest')!;
    expect(ingest.config?.keepMetrics).toEqual(['carts']);
    const topics = new Set(out.topology.nodes.filter((n) => n.kind === 'mq-partition').map((n) => (n.config?.machine as { topic: string }).topic));
    expect(topics.size).toBe(1);
    expect([...topics][0]).toMatch(/carts/);
    expect(() => applySettings(input, { queries: [{ id: 'm', name: 'Memory', text: 'FROM servers(web-*) SELECT mem WINDOW 5s COMPUTE max' }] })).toThrow(/settings\.queries\[0\] \("m"\): no agent emits metric "mem" \(metrics: cpu, /);
  });

  it('a query that does not parse is refused with its index, id and position', () => {
    const input = findScenario('apm-baseline')!;
    expect(() => applySettings(input, { queries: [{ id: 'q1', name: 'Broken', text: 'FROM servers(web-*) SELECT cpu WINDOW ten COMPUTE max' }] })).toThrow(/settings\.queries\[0\] \("q1"\):.*/);
    expect(() => applySettings(findScenario('mq-baseline')!, { queries: [{ id: 'q1', name: 'n', text: 'FROM servers(*) SELECT cpu WINDOW 1s COMPUTE max' }] })).toThrow(/no stored queries/);
  });
});

describe('Lab.load with settings', () => {
  it('runs differently with a setting, records it, and a trace of it replays to the same hash', () => {
    const lab = new Lab();
    const plain = lab.load('mq-acks-quorum', { seed: '3' });
    expect(plain.settings).toEqual({});
    const settings = { config: { 'mq-producer': { acks: 'leader' } } };
    lab.load('mq-acks-quorum', { seed: '3', settings });
    const changed = lab.runToEnd();
    expect(changed.settings).toEqual(settings);
    const quorum = new Lab();
    quorum.load('mq-acks-quorum', { seed: '3' });
    expect(quorum.runToEnd().traceHash).not.toBe(changed.traceHash);

    const text = lab.exportTrace('json');
    expect(JSON.parse(text).config.settings).toEqual(settings);
    const other = new Lab();
    const result = other.importTrace(text);
    expect(result.hash).toBe(changed.traceHash);
    expect(other.snapshot().settings).toEqual(settings);
  });

  it('a bad setting is a LabError naming it, and the current run stays', () => {
    const lab = new Lab();
    lab.load('mq-baseline', { seed: '1' });
    const before = lab.step(50);
    expect(() => lab.load('apm-baseline', { settings: { config: { 'apm-lb': { policy: 'random' } } } })).toThrow(/settings: a node refused its config: apm lb: unknown policy random/);
    expect(() => lab.load('mq-baseline', { settings: { config: { 'raft-node': { x: 1 } } } })).toThrow(/settings\.config\.raft-node/);
    expect(() => lab.load('mq-baseline', { settings: 'acks=leader' })).toThrow(/settings/);
    const after = lab.snapshot();
    expect(after.traceHash).toBe(before.traceHash);
    expect(after.scenario.id).toBe('mq-baseline');
  });

  it('edited APM queries change what the dashboard stores', () => {
    const lab = new Lab();
    const queries = [{ id: 'carts', name: 'Carts by 5 s', text: 'FROM servers(web-*) SELECT carts WINDOW 5s COMPUTE min, max' }];
    const snap = lab.load('apm-baseline', { seed: '1', settings: { queries } });
    expect(snap.settings).toEqual({ queries });
    const dash = snap.nodes.find((n) => n.kind === 'apm-dashboard')!;
    expect(dash.headline.queries).toBe(1);
    const end = lab.step({ until: 16_000_000 });
    expect(end.violations).toEqual([]);
    expect(Number(end.metrics.windows)).toBeGreaterThan(0);
  });
});
