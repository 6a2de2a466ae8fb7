/**
 * What a running Deno process holds resident, for issue 13's idle-memory attribution
 * (docs/performance-history.md, "Startup and idle, round 10"): its RSS by mapping
 * (`/proc/<pid>/smaps`), and the pages of the `deno` binary it has touched (`/proc/<pid>/pagemap`,
 * which needs root) by where they are in the file: the ELF sections, and inside `.rodata` the
 * items of ICU's embedded data (its table of contents names each one). `--save` keeps the page
 * set; `--diff` prints the pages present now and not in a saved set, so two runs that differ by
 * one call say which pages that call brought in. The kernel maps up to 16 neighbouring cached
 * pages on a fault, so a call counts in 64 KB steps.
 *
 * ```sh
 * deno run -A bench/idle_pages.ts <pid>
 * deno run -A bench/idle_pages.ts <pid> --save /tmp/before.json
 * deno run -A bench/idle_pages.ts <pid> --diff /tmp/before.json
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

const PAGE = 4096;

interface Section {
  name: string;
  offset: number;
  size: number;
}

interface IcuItem {
  offset: number;
  name: string;
}

/** The allocated sections of an ELF64 little-endian file, by file offset. */
function elfSections(file: Uint8Array): Section[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  const header = (i: number) => shoff + i * shentsize;
  const strtab = Number(view.getBigUint64(header(shstrndx) + 0x18, true));
  const sections: Section[] = [];
  for (let i = 1; i < shnum; i++) {
    const at = header(i);
    const nameAt = strtab + view.getUint32(at, true);
    const name = new TextDecoder().decode(file.subarray(nameAt, file.indexOf(0, nameAt)));
    const type = view.getUint32(at + 4, true);
    const flags = Number(view.getBigUint64(at + 8, true));
    // SHF_ALLOC and not NOBITS (8): sections with bytes in the file that get mapped.
    if ((flags & 2) === 0 || type === 8) continue;
    sections.push({
      name,
      offset: Number(view.getBigUint64(at + 0x18, true)),
      size: Number(view.getBigUint64(at + 0x20, true)),
    });
  }
  return sections.sort((a, b) => a.offset - b.offset);
}

/** ICU's common data file inside the binary (`CmnD`): its items by file offset. */
function icuItems(file: Uint8Array): IcuItem[] {
  const marker = new TextEncoder().encode("CmnD");
  let at = -1;
  for (let i = file.indexOf(marker[0]); i >= 0; i = file.indexOf(marker[0], i + 1)) {
    if (marker.every((byte, k) => file[i + k] === byte) && file[i - 10] === 0xda) {
      at = i - 12;
      break;
    }
  }
  if (at < 0) return [];
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const toc = at + view.getUint16(at, true);
  const count = view.getUint32(toc, true);
  const items: IcuItem[] = [];
  for (let i = 0; i < count; i++) {
    const nameAt = toc + view.getUint32(toc + 4 + 8 * i, true);
    const name = new TextDecoder().decode(file.subarray(nameAt, file.indexOf(0, nameAt)));
    items.push({ offset: toc + view.getUint32(toc + 8 + 8 * i, true), name });
  }
  return items.sort((a, b) => a.offset - b.offset);
}

/** File page numbers of the binary's mappings that are present, by permissions. */
async function presentPages(pid: number, binary: string): Promise<Map<string, Set<number>>> {
  const pages = new Map<string, Set<number>>();
  const pagemap = await Deno.open(`/proc/${pid}/pagemap`);
  try {
    for (const line of (await Deno.readTextFile(`/proc/${pid}/maps`)).split("\n")) {
      const fields = line.split(/\s+/);
      if (fields[5] !== binary) continue;
      const [start, end] = fields[0].split("-").map((hex) => parseInt(hex, 16));
      const fileOffset = parseInt(fields[2], 16);
      const count = (end - start) / PAGE;
      const entries = new Uint8Array(count * 8);
      await pagemap.seek((start / PAGE) * 8, Deno.SeekMode.Start);
      for (let read = 0; read < entries.length;) {
        const n = await pagemap.read(entries.subarray(read));
        if (n === null) break;
        read += n;
      }
      const view = new DataView(entries.buffer);
      const set = pages.get(fields[1]) ?? new Set<number>();
      pages.set(fields[1], set);
      for (let i = 0; i < count; i++) {
        // Bit 63: present.
        if (view.getUint32(i * 8 + 4, true) & 0x8000_0000) set.add(fileOffset / PAGE + i);
      }
    }
  } finally {
    pagemap.close();
  }
  return pages;
}

/**
 * A process's RSS in MB by mapping name, from the `Rss:` lines of `/proc/<pid>/smaps`: the
 * mappings of `binary` (the process's executable, `/proc/<pid>/exe`) as `deno <permissions>`
 * (`deno r-xp` is its code), unnamed ones as `[anon]`, the others by their name (`[heap]`, a
 * library's path); largest first. bench/idle_rss.ts sums them for the idle figures.
 */
export async function rssByMapping(pid: number, binary: string): Promise<Array<[string, number]>> {
  const totals = new Map<string, number>();
  let current = "";
  for (const line of (await Deno.readTextFile(`/proc/${pid}/smaps`)).split("\n")) {
    const fields = line.split(/\s+/);
    if (/^[0-9a-f]+-[0-9a-f]+$/.test(fields[0])) {
      const name = fields[5] || "[anon]";
      current = name === binary ? `deno ${fields[1]}` : name;
    } else if (fields[0] === "Rss:") {
      totals.set(current, (totals.get(current) ?? 0) + Number(fields[1]) / 1024);
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

/** Which part of the binary a file page is in: a section, or an ICU item. */
function placer(sections: Section[], icu: IcuItem[]): (page: number) => string {
  const icuEnd = icu.length > 0 ? icu[icu.length - 1].offset : 0;
  return (page) => {
    const offset = page * PAGE;
    if (icu.length > 0 && offset >= icu[0].offset - PAGE && offset <= icuEnd) {
      let low = 0;
      let high = icu.length - 1;
      while (low < high) {
        const mid = (low + high + 1) >> 1;
        if (icu[mid].offset <= offset) low = mid;
        else high = mid - 1;
      }
      return `icu ${icu[low].name.replace(/^icudt\d+l\//, "")}`;
    }
    const section = sections.findLast((s) => s.offset <= offset);
    return section && offset < section.offset + section.size ? section.name : "(between)";
  };
}

function report(title: string, pages: Iterable<number>, place: (page: number) => string): void {
  const bySection = new Map<string, number>();
  const byIcuItem = new Map<string, number>();
  for (const page of pages) {
    const where = place(page);
    const key = where.startsWith("icu ") ? "ICU data" : where;
    bySection.set(key, (bySection.get(key) ?? 0) + PAGE / 1048576);
    if (where.startsWith("icu ")) {
      byIcuItem.set(where.slice(4), (byIcuItem.get(where.slice(4)) ?? 0) + PAGE / 1024);
    }
  }
  const mb = [...bySection].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`);
  console.log(`${title}: ${mb.length > 0 ? `${mb.join(", ")} MB` : "nothing"}`);
  if (byIcuItem.size > 0) {
    const top = [...byIcuItem].sort((a, b) => b[1] - a[1]).slice(0, 12);
    console.log(`  ICU items: ${top.map(([k, v]) => `${k} ${v} KB`).join(", ")}`);
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { save: { type: "string" }, diff: { type: "string" } },
    allowPositionals: true,
  });
  const pid = Number(positionals[0]);
  if (!Number.isInteger(pid) || pid <= 0) {
    console.error("usage: deno run -A bench/idle_pages.ts <pid> [--save FILE] [--diff FILE]");
    Deno.exit(2);
  }
  const binary = await Deno.readLink(`/proc/${pid}/exe`);
  const file = await Deno.readFile(binary);
  const place = placer(elfSections(file), icuItems(file));
  const rss = await rssByMapping(pid, binary);
  const total = rss.reduce((sum, [, mb]) => sum + mb, 0);
  console.log(
    `RSS ${total.toFixed(1)} MB: ${
      rss.slice(0, 8).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")
    }`,
  );
  const pages = await presentPages(pid, binary);
  for (const [perms, set] of pages) report(`deno ${perms}`, set, place);
  if (values.save) {
    const saved = Object.fromEntries([...pages].map(([perms, set]) => [perms, [...set]]));
    await Deno.writeTextFile(values.save, JSON.stringify(saved));
  }
  if (values.diff) {
    const before = JSON.parse(await Deno.readTextFile(values.diff)) as Record<string, number[]>;
    for (const [perms, set] of pages) {
      const old = new Set(before[perms] ?? []);
      report(`new since ${values.diff}, deno ${perms}`, [...set].filter((p) => !old.has(p)), place);
    }
  }
}
