/**
 * Every story of the Raft views renders under jsdom (via composeStories) and shows real content; the specific
 * assertions per view live in raft-logs, raft-elections and raft-space-time.
 */
import { composeStories } from '@storybook/svelte';
import { describe, expect, it } from 'vitest';
import * as elections from '../../src/views/Elections.stories.ts';
import * as replicaLogs from '../../src/views/ReplicaLogs.stories.ts';
import * as spaceTime from '../../src/views/SpaceTime.stories.ts';
import { renderStory, type Composed } from './render.ts';

const MODULES = { replicaLogs, elections, spaceTime };

describe('every Raft story renders', () => {
  for (const [moduleName, mod] of Object.entries(MODULES)) {
    const stories = Object.entries(composeStories(mod as Parameters<typeof composeStories>[0])) as [string, Composed][];
    it(`${moduleName} has the five moments`, () => expect(stories.length).toBeGreaterThanOrEqual(5));
    for (const [name, story] of stories) {
      it(`${moduleName}.${name}`, () => {
        const { container } = renderStory(story);
        expect(container.querySelector('section svg')).not.toBeNull();
        expect(container.textContent?.trim().length).toBeGreaterThan(60);
        // One row or lane per replica.
        const rows = container.querySelectorAll('[data-testid^="log-head-"], [data-testid^="lane-head-"], .lane-label');
        expect(rows.length).toBeGreaterThanOrEqual(3);
      });
    }
  }
});
