/**
 * Named colour tokens. Text uses the terminal's default foreground (no token
 * for it); only accents are coloured. NO_COLOR (any non-empty value) disables
 * every colour, log SGR included; bold/inverse stay since they are not colour.
 */
import { createContext, useContext } from 'react';

export interface Theme {
  color: boolean;
  accent?: string;
  muted?: string;
  running?: string;
  stopped?: string;
  busy?: string;
  error?: string;
  ok?: string;
  border?: string;
  tag: string[];
}

const COLOURS: Theme = {
  color: true,
  accent: 'cyan',
  muted: 'gray',
  running: 'green',
  stopped: 'gray',
  busy: 'yellow',
  error: 'red',
  ok: 'green',
  border: 'gray',
  tag: ['cyan', 'magenta', 'yellow', 'blue', 'green', 'red'],
};

const MONO: Theme = { color: false, tag: [] };

export function makeTheme(env: NodeJS.ProcessEnv = process.env): Theme {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '' ? MONO : COLOURS;
}

export const ThemeContext = createContext<Theme>(COLOURS);

export function useTheme(): Theme {
  return useContext(ThemeContext);
}

/** stable colour for a tag (pod member name) */
export function tagColour(theme: Theme, tag: string): string | undefined {
  if (!theme.color || theme.tag.length === 0) return undefined;
  let h = 0;
  for (const c of tag) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return theme.tag[h % theme.tag.length];
}
