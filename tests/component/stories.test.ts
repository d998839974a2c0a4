/**
 * Every story of every view renders under jsdom (via composeStories) and shows real content: no story may render an
 * empty box. Specific assertions per view live in the neighbouring test files.
 */
import { composeStories } from '@storybook/svelte';
import { waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import * as app from '../../src/views/App.stories.ts';
import * as capacityCalculator from '../../src/views/CapacityCalculator.stories.ts';
import * as charts from '../../src/views/Charts.stories.ts';
import * as elections from '../../src/views/Elections.stories.ts';
import * as eventLog from '../../src/views/EventLog.stories.ts';
import * as exportMenu from '../../src/views/ExportMenu.stories.ts';
import * as faultPanel from '../../src/views/FaultPanel.stories.ts';
import * as fork from '../../src/views/Fork.stories.ts';
import * as helpOverlay from '../../src/views/HelpOverlay.stories.ts';
import * as icon from '../../src/views/Icon.stories.ts';
import * as inspector from '../../src/views/Inspector.stories.ts';
import * as interviewPanel from '../../src/views/InterviewPanel.stories.ts';
import * as invariants from '../../src/views/Invariants.stories.ts';
import * as narration from '../../src/views/Narration.stories.ts';
import * as queryEditor from '../../src/views/QueryEditor.stories.ts';
import * as replicaLogs from '../../src/views/ReplicaLogs.stories.ts';
import * as runBar from '../../src/views/RunBar.stories.ts';
import * as scenarioPicker from '../../src/views/ScenarioPicker.stories.ts';
import * as spaceTime from '../../src/views/SpaceTime.stories.ts';
import * as topology from '../../src/views/Topology.stories.ts';
import * as traceViewer from '../../src/views/TraceViewer.stories.ts';
import * as transport from '../../src/views/Transport.stories.ts';
import { renderStory, type Composed } from './render.ts';

const MODULES = {
  app,
  capacityCalculator,
  charts,
  elections,
  eventLog,
  exportMenu,
  faultPanel,
  fork,
  helpOverlay,
  icon,
  inspector,
  interviewPanel,
  invariants,
  narration,
  queryEditor,
  replicaLogs,
  runBar,
  scenarioPicker,
  spaceTime,
  topology,
  traceViewer,
  transport,
};

/** Stories that render nothing visible on purpose. */
const EMPTY_ON_PURPOSE = new Set(['helpOverlay.Closed']);
/** Views whose whole text is short on purpose (an icon, a menu button); their own tests check what they show. */
const SHORT_TEXT = new Set(['icon', 'exportMenu']);

describe('every story renders', () => {
  for (const [moduleName, mod] of Object.entries(MODULES)) {
    const stories = Object.entries(composeStories(mod as Parameters<typeof composeStories>[0])) as [string, Composed][];
    it(`${moduleName} has stories`, () => expect(stories.length).toBeGreaterThan(0));
    for (const [name, story] of stories) {
      it(`${moduleName}.${name}`, async () => {
        const { container } = renderStory(story);
        if (EMPTY_ON_PURPOSE.has(`${moduleName}.${name}`)) {
          expect(container.textContent?.trim()).toBe('');
          return;
        }
        await waitFor(() => expect(container.querySelector('svg, section, header, [role=toolbar], [role=dialog]')).not.toBeNull());
        if (!SHORT_TEXT.has(moduleName)) expect(container.textContent?.trim().length).toBeGreaterThan(20);
      });
    }
  }
});
