/** The vulnerability DB version a report was matched against. */
export interface DbStamp {
  version: string;
  updatedAt: string;
}
