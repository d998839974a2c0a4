/** Renders a composed story (from `composeStories`) with @testing-library/svelte. */
import { render } from '@testing-library/svelte';
import type { Component } from 'svelte';

export interface Composed {
  Component: unknown;
  props: unknown;
}

export function renderStory(story: Composed) {
  return render(story.Component as Component<Record<string, unknown>>, { props: story.props as Record<string, unknown> });
}
