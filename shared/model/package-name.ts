/** PEP 503: the one name PyPI indexes and advisories know a project by (`Foo_Bar.baz` → `foo-bar-baz`). */
export const pep503Name = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, "-");
