/**
 * Keyboard shortcuts as data: which key means which command, and when keys belong to a text field instead. The app
 * shell listens on window and maps keys through `commandFor`; the help overlay lists `SHORTCUTS`.
 */
export type Command =
  | 'toggle-play'
  | 'step'
  | 'next-state'
  | 'back-small'
  | 'back-big'
  | 'start'
  | 'end'
  | 'faster'
  | 'slower'
  | 'help'
  | 'escape'
  | 'narration-next'
  | 'narration-back'
  | 'pick-scenario'
  | 'interview';

export const SHORTCUTS: readonly (readonly [string, string])[] = [
  ['Space', 'Play / pause'],
  ['→', 'Step one event'],
  ['Shift + →', 'Run to the next state change'],
  ['←', 'Seek back 100 ms'],
  ['Shift + ←', 'Seek back 1 s'],
  ['Home', 'Seek to the start'],
  ['End', 'Run to the end'],
  ['+ / −', 'Faster / slower'],
  ['N', 'Narration: run to the next step'],
  ['B', 'Narration: back to the previous step'],
  ['/', 'Find a scenario (search, filter by tag)'],
  ['I', 'Interview practice: timer, checklist, capacity'],
  ['?', 'Show or hide this help'],
  ['Esc', 'Close this help, dismiss messages'],
];

const TEXT_INPUTS = new Set(['text', 'search', 'number', 'email', 'url', 'password', 'tel', 'file']);

/** True when keys typed now belong to a field (text inputs, selects, text areas, editable content). */
export function isTyping(target: EventTarget | null): boolean {
  if (!target || typeof (target as HTMLElement).tagName !== 'string') return false;
  const el = target as HTMLElement;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return TEXT_INPUTS.has((el as HTMLInputElement).type);
  return false;
}

/** Range sliders and radio groups keep their own arrow keys (they move the slider or the choice). */
function isSlider(target: EventTarget | null): boolean {
  const el = target as HTMLInputElement | null;
  return !!el && el.tagName === 'INPUT' && (el.type === 'range' || el.type === 'radio');
}

function isToggle(target: EventTarget | null): boolean {
  const el = target as HTMLInputElement | null;
  return !!el && el.tagName === 'INPUT' && (el.type === 'checkbox' || el.type === 'radio');
}

export interface KeyLike {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  target: EventTarget | null;
}

export function commandFor(e: KeyLike): Command | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (e.key === 'Escape') return 'escape';
  if (isTyping(e.target)) return null;
  switch (e.key) {
    case ' ':
      // A focused checkbox keeps Space for itself; elsewhere (buttons included) Space is play/pause.
      return isToggle(e.target) ? null : 'toggle-play';
    case 'ArrowRight':
      return isSlider(e.target) ? null : e.shiftKey ? 'next-state' : 'step';
    case 'ArrowLeft':
      return isSlider(e.target) ? null : e.shiftKey ? 'back-big' : 'back-small';
    case 'Home':
      return isSlider(e.target) ? null : 'start';
    case 'End':
      return isSlider(e.target) ? null : 'end';
    case '+':
    case '=':
      return 'faster';
    case '-':
      return 'slower';
    case '?':
      return 'help';
    case 'n':
    case 'N':
      return 'narration-next';
    case 'b':
    case 'B':
      return 'narration-back';
    case '/':
      return 'pick-scenario';
    case 'i':
    case 'I':
      return 'interview';
    default:
      return null;
  }
}
