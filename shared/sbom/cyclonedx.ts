import * as CDX from "@cyclonedx/cyclonedx-library";
import type { Inventory } from "../model/report.js";
import { formatImageRef } from "../model/image-reference.js";

const PORTCULLIS_VERSION = "0.1.0";

/**
 * The inventory as a CycloneDX 1.6 JSON SBOM: the image as the metadata component (type container),
 * each package a library component with its purl and the layer that introduced it as a property.
 */
export function inventoryToCycloneDx(inventories: Inventory[], now: Date = new Date()): string {
  const bom = new CDX.Models.Bom();
  bom.metadata.timestamp = now;
  bom.metadata.tools.components.add(
    new CDX.Models.Component(CDX.Enums.ComponentType.Application, "portcullis", {
      version: PORTCULLIS_VERSION,
    }),
  );
  const images = inventories.map((inv) => imageComponent(inv));
  const [first] = images;
  if (images.length === 1 && first) bom.metadata.component = first;
  for (const [i, inv] of inventories.entries()) {
    const image = images[i]!;
    if (images.length > 1) bom.components.add(image);
    for (const pkg of inv.packages) {
      const component = new CDX.Models.Component(CDX.Enums.ComponentType.Library, pkg.name, {
        // a package both an OS package installed and found elsewhere is two components
        bomRef: `${inv.image.digest}:${pkg.purl}${pkg.installedBy ? `:installed-by:${pkg.installedBy.name}` : ""}`,
        version: pkg.version,
        purl: pkg.purl,
      });
      component.properties.add(new CDX.Models.Property("portcullis:layer", pkg.layer));
      component.properties.add(new CDX.Models.Property("portcullis:ecosystem", pkg.ecosystem));
      if (pkg.source) {
        component.properties.add(new CDX.Models.Property("portcullis:source:name", pkg.source.name));
        component.properties.add(new CDX.Models.Property("portcullis:source:version", pkg.source.version));
      }
      for (const p of pkg.paths) component.properties.add(new CDX.Models.Property("portcullis:path", p));
      if (pkg.dev) component.properties.add(new CDX.Models.Property("portcullis:dev", "true"));
      if (pkg.installedBy) {
        const by = pkg.installedBy;
        component.properties.add(new CDX.Models.Property("portcullis:installedBy", by.purl ?? by.name));
      }
      bom.components.add(component);
      image.dependencies.add(component.bomRef);
    }
  }
  const serializer = new CDX.Serialize.JsonSerializer(
    new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6),
  );
  return serializer.serialize(bom, { sortLists: true, space: 2 });
}

function imageComponent(inv: Inventory): CDX.Models.Component {
  const { image } = inv;
  const name = formatImageRef({ registry: image.registry, repository: image.repository });
  const component = new CDX.Models.Component(CDX.Enums.ComponentType.Container, name, {
    bomRef: image.digest,
    version: image.digest,
  });
  component.properties.add(new CDX.Models.Property("portcullis:ref", image.ref));
  const platform = [image.platform.os, image.platform.architecture, image.platform.variant]
    .filter(Boolean)
    .join("/");
  component.properties.add(new CDX.Models.Property("portcullis:platform", platform));
  if (image.platform["os.version"])
    component.properties.add(new CDX.Models.Property("portcullis:os.version", image.platform["os.version"]));
  if (image.os) {
    component.properties.add(new CDX.Models.Property("portcullis:os:family", image.os.family));
    component.properties.add(new CDX.Models.Property("portcullis:os:version", image.os.version));
  }
  for (const tag of image.tags) component.properties.add(new CDX.Models.Property("portcullis:tag", tag));
  return component;
}
