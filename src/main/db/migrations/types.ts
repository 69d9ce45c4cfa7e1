export interface Migration {
  /** 1, 2, 3 ... in order, no gaps. */
  version: number;
  name: string;
  sql: string;
}
