/**
 * UI-only state (tab, selection by name, focus, filters, journal view, overlays),
 * kept outside React so it survives an Ink remount (shell hand-off).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Anchor } from '../components/log-view-model.js';
import type { CreateFlags, ValidationResult } from './engine-port.js';

export type Tab = 'containers' | 'pods' | 'rootfs';
export const TABS: Tab[] = ['containers', 'pods', 'rootfs'];

export type SortKey = 'name' | 'status' | 'cpu' | 'mem' | 'uptime';
export const SORT_KEYS: SortKey[] = ['name', 'status', 'cpu', 'mem', 'uptime'];

export interface WizardState {
  flags: CreateFlags;
  field: string;
  validation: ValidationResult | null;
  /** text being typed into list fields (binds, envs, caps) */
  text: Record<string, string>;
}

export type Overlay =
  | null
  | { kind: 'help' }
  | { kind: 'remove'; names: string[]; typed: string }
  | { kind: 'wizard'; wiz: WizardState };

export interface UiState {
  tab: Tab;
  focus: 'list' | 'journal';
  /** selected row name per tab, and last index (for clamping when rows disappear) */
  selected: Record<Tab, string | null>;
  selIndex: Record<Tab, number>;
  marked: string[];
  filter: string;
  filterEditing: boolean;
  sortKey: SortKey;
  sortDesc: boolean;
  showTs: boolean;
  anchor: Anchor | null;
  search: string;
  searchEditing: boolean;
  bottom: 'journal' | 'detail';
  overlay: Overlay;
  spin: number;
}

export function createUiStore(): StoreApi<UiState> {
  return createStore<UiState>(() => ({
    tab: 'containers',
    focus: 'list',
    selected: { containers: null, pods: null, rootfs: null },
    selIndex: { containers: 0, pods: 0, rootfs: 0 },
    marked: [],
    filter: '',
    filterEditing: false,
    sortKey: 'name',
    sortDesc: false,
    showTs: true,
    anchor: null,
    search: '',
    searchEditing: false,
    bottom: 'journal',
    overlay: null,
    spin: 0,
  }));
}

/**
 * Index of the selection in `names`: the selected name if still present,
 * else the previous index clamped to the new length (-1 when empty).
 */
export function resolveSelection(names: string[], selected: string | null, lastIndex: number): number {
  if (names.length === 0) return -1;
  if (selected !== null) {
    const i = names.indexOf(selected);
    if (i >= 0) return i;
  }
  return Math.max(0, Math.min(lastIndex, names.length - 1));
}
