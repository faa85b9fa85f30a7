// keymap.js: the one table from KeyboardEvent.code to gadgetd's key names (gadgetd/keymap.c).

/* Physical key (event.code) -> the canonical name POST /api/keys takes. */
export const CODE_TO_NAME = Object.freeze({
  Escape: 'esc', Backquote: 'grave', Minus: 'minus', Equal: 'equal', Backspace: 'backspace',
  Tab: 'tab', BracketLeft: 'leftbrace', BracketRight: 'rightbrace', Backslash: 'backslash',
  CapsLock: 'capslock', Semicolon: 'semicolon', Quote: 'apostrophe', Enter: 'enter',
  IntlHash: 'nonus-hash', IntlBackslash: '102nd', Comma: 'comma', Period: 'dot', Slash: 'slash',
  Space: 'space', ContextMenu: 'compose',
  ...Object.fromEntries('ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('').map((c) => ['Key' + c, c.toLowerCase()])),
  ...Object.fromEntries('0123456789'.split('').map((d) => ['Digit' + d, d])),
  ...Object.fromEntries(Array.from({ length: 24 }, (_, i) => ['F' + (i + 1), 'f' + (i + 1)])),
  PrintScreen: 'printscreen', ScrollLock: 'scrolllock', Pause: 'pause',
  Insert: 'insert', Home: 'home', PageUp: 'pageup', Delete: 'delete', End: 'end',
  PageDown: 'pagedown', ArrowRight: 'right', ArrowLeft: 'left', ArrowDown: 'down', ArrowUp: 'up',
  NumLock: 'numlock', NumpadDivide: 'kpslash', NumpadMultiply: 'kpasterisk',
  NumpadSubtract: 'kpminus', NumpadAdd: 'kpplus', NumpadEnter: 'kpenter', NumpadDecimal: 'kpdot',
  NumpadEqual: 'kpequal',
  ...Object.fromEntries('0123456789'.split('').map((d) => ['Numpad' + d, 'kp' + d])),
  Power: 'power', AudioVolumeMute: 'mute', AudioVolumeUp: 'volumeup',
  AudioVolumeDown: 'volumedown', VolumeMute: 'mute', VolumeUp: 'volumeup', VolumeDown: 'volumedown',
  IntlRo: 'ro', KanaMode: 'katakanahiragana', IntlYen: 'yen', Convert: 'henkan',
  NonConvert: 'muhenkan', Lang1: 'hangeul', Lang2: 'hanja',
  ControlLeft: 'ctrl', ShiftLeft: 'shift', AltLeft: 'alt', MetaLeft: 'meta', OSLeft: 'meta',
  ControlRight: 'rightctrl', ShiftRight: 'rightshift', AltRight: 'rightalt', MetaRight: 'rightmeta',
  OSRight: 'rightmeta',
});

/* The modifier keys: held, never sent alone unless tapped. */
export const MODIFIER_NAMES = new Set([
  'ctrl', 'shift', 'alt', 'meta', 'rightctrl', 'rightshift', 'rightalt', 'rightmeta',
]);

export function keyName(code) {
  return Object.prototype.hasOwnProperty.call(CODE_TO_NAME, code) ? CODE_TO_NAME[code] : null;
}

export function isModifier(code) {
  return MODIFIER_NAMES.has(keyName(code));
}
