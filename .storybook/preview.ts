import type { Preview } from '@storybook/svelte';
import '../src/app.css';

/** Global look for stories: the app's theme tokens and a neutral padded canvas. */
const preview: Preview = {
  parameters: {
    layout: 'padded',
    controls: { expanded: false },
  },
};

export default preview;
