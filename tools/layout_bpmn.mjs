#!/usr/bin/env node
// Lays out a BPMN file and draws its lanes, so that bpmn.io and Camunda Modeler show who does what.
//
//   node tools/layout_bpmn.mjs workflows/ehc_needs_assessment.bpmn            (rewrites the file)
//   node tools/layout_bpmn.mjs in.bpmn out.bpmn
//
// 1. Any diagram (DI) and any participant/collaboration already in the file are dropped: the semantic part (the
//    process, its lanes, messages, signals and every extension property) is all that is read.
// 2. bpmn-auto-layout lays the process out left to right on a grid.
// 3. A collaboration with one participant (the process) is added, with one horizontal band per lane. Each element
//    keeps its x and is moved into its lane's band (the layout's grid rows used by a lane become that lane's rows);
//    boundary events move with the task they are attached to; sequence flows are re-routed with right angles.
// 4. The result is checked: every flow node, sequence flow and lane has a shape or an edge, and nothing semantic
//    (ids, extension elements) was lost.
//
// See tools/README.md.

import { readFile, writeFile } from 'node:fs/promises';
import { layoutProcess } from 'bpmn-auto-layout';
import { BpmnModdle } from 'bpmn-moddle';

const ROW_HEIGHT = 130;     // height of one row inside a lane band
const LANE_PADDING = 15;    // space above the first and below the last row of a band
const LANE_LABEL = 30;      // width of the lane-name strip on the left of a band
const POOL_LABEL = 30;      // width of the participant-name strip
const MARGIN = 40;          // space to the right of the last element
const GAP = 50;             // least space between an element and the next one on a flow
const ROW_MARGIN = 10;      // least space between two elements sharing a row of a lane
const LABEL_WIDTH = 90;     // room for the label under an event or gateway

const moddle = new BpmnModdle();

function fail(message) {
  console.error(`layout_bpmn: ${message}`);
  process.exit(1);
}

async function parse(xml) {
  const { rootElement, warnings } = await moddle.fromXML(xml, 'bpmn:Definitions');
  const serious = warnings.filter((w) => !/unknown|unparsable content <bpmndi/i.test(w.message));
  if (serious.length) {
    fail(`the file does not parse cleanly:\n  ${serious.map((w) => w.message).join('\n  ')}`);
  }
  return rootElement;
}

async function serialize(definitions) {
  const { xml } = await moddle.toXML(definitions, { format: true });
  return xml;
}

// ---- 1. semantic part only -----------------------------------------------------------------------------------------
async function stripDiagram(xml) {
  const definitions = await parse(xml);
  definitions.diagrams = [];
  definitions.rootElements = definitions.rootElements.filter((element) => {
    if (element.$type !== 'bpmn:Collaboration') return true;
    const onlyParticipants = !(element.messageFlows || []).length && !(element.artifacts || []).length;
    if (!onlyParticipants) fail(`collaboration ${element.id} has message flows or artifacts; this tool would lose them`);
    return false;
  });
  return serialize(definitions);
}

// ---- helpers -------------------------------------------------------------------------------------------------------
const mid = (b) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });
const isGateway = (el) => /Gateway$/.test(el.$type);
const point = (x, y) => moddle.create('dc:Point', { x: Math.round(x), y: Math.round(y) });

function flowElementsOf(container) {
  return container.flowElements || [];
}

// Candidate right-angle paths from a source shape to a target shape, most natural first.
function candidates(sourceEl, sb, targetEl, tb) {
  const s = mid(sb);
  const t = mid(tb);
  const sRight = sb.x + sb.width;
  const sBottom = sb.y + sb.height;
  const tLeft = tb.x;
  const tBottom = tb.y + tb.height;
  const down = t.y > s.y;
  // The free channel between two rows, next to the target's row and next to the source's row.
  const nearTarget = down ? t.y - ROW_HEIGHT / 2 : t.y + ROW_HEIGHT / 2;
  const nearSource = down ? s.y + ROW_HEIGHT / 2 : s.y - ROW_HEIGHT / 2;
  const out = [];
  if (sourceEl.$type === 'bpmn:BoundaryEvent') {
    const below = sBottom + 25;
    if (tLeft > s.x) {
      out.push([[s.x, sBottom], [s.x, t.y], [tLeft, t.y]]);
      out.push([[s.x, sBottom], [s.x, below], [tLeft - 15, below], [tLeft - 15, t.y], [tLeft, t.y]]);
      out.push([[s.x, sBottom], [s.x, nearTarget], [tLeft - 15, nearTarget], [tLeft - 15, t.y], [tLeft, t.y]]);
    }
    const under = Math.max(sBottom, tBottom) + 25;
    out.push([[s.x, sBottom], [s.x, under], [t.x, under], [t.x, tBottom]]);
    return out;
  }
  if (tLeft < sRight) {
    // A flow going back: under (or over) both shapes.
    const under = Math.max(sBottom, tBottom) + 25;
    const over = Math.min(sb.y, tb.y) - 25;
    out.push([[s.x, sBottom], [s.x, under], [t.x, under], [t.x, tBottom]]);
    out.push([[s.x, sb.y], [s.x, over], [t.x, over], [t.x, tb.y]]);
    return out;
  }
  if (Math.abs(s.y - t.y) < 1) {
    out.push([[sRight, s.y], [tLeft, t.y]]);
    out.push([[sRight, s.y], [sRight + 15, s.y], [sRight + 15, s.y + ROW_HEIGHT / 2],
      [tLeft - 15, s.y + ROW_HEIGHT / 2], [tLeft - 15, t.y], [tLeft, t.y]]);
    return out;
  }
  if (isGateway(sourceEl)) out.push([[s.x, down ? sBottom : sb.y], [s.x, t.y], [tLeft, t.y]]);
  if (isGateway(targetEl)) out.push([[sRight, s.y], [t.x, s.y], [t.x, down ? tb.y : tBottom]]);
  const midX = Math.round((sRight + tLeft) / 2);
  out.push([[sRight, s.y], [midX, s.y], [midX, t.y], [tLeft, t.y]]);
  out.push([[sRight, s.y], [tLeft - 20, s.y], [tLeft - 20, t.y], [tLeft, t.y]]);
  out.push([[sRight, s.y], [sRight + 20, s.y], [sRight + 20, t.y], [tLeft, t.y]]);
  for (const channel of [nearTarget, nearSource]) {
    out.push([[sRight, s.y], [sRight + 15, s.y], [sRight + 15, channel], [tLeft - 15, channel],
      [tLeft - 15, t.y], [tLeft, t.y]]);
  }
  return out;
}

// How many other shapes a path runs through (axis-parallel segments against boxes grown by a few pixels).
function crossings(points, boxes) {
  let count = 0;
  for (const box of boxes) {
    const x1 = box.x - 4;
    const x2 = box.x + box.width + 4;
    const y1 = box.y - 4;
    const y2 = box.y + box.height + 4;
    for (let i = 1; i < points.length; i += 1) {
      const [ax, ay] = points[i - 1];
      const [bx, by] = points[i];
      const hit = ay === by
        ? ay > y1 && ay < y2 && Math.max(ax, bx) > x1 && Math.min(ax, bx) < x2
        : ax > x1 && ax < x2 && Math.max(ay, by) > y1 && Math.min(ay, by) < y2;
      if (hit) {
        count += 1;
        break;
      }
    }
  }
  return count;
}

function route(flow, shapes, boxes) {
  const sourceBounds = shapes.get(flow.sourceRef.id).bounds;
  const targetBounds = shapes.get(flow.targetRef.id).bounds;
  const others = boxes.filter((b) => b.id !== flow.sourceRef.id && b.id !== flow.targetRef.id
    && b.host !== flow.sourceRef.id && b.host !== flow.targetRef.id);
  let best = null;
  let bestScore = Infinity;
  for (const points of candidates(flow.sourceRef, sourceBounds, flow.targetRef, targetBounds)) {
    const score = crossings(points, others);
    if (score < bestScore) {
      best = points;
      bestScore = score;
    }
  }
  return best;
}

// ---- 3. lanes ------------------------------------------------------------------------------------------------------
async function addLanes(xml) {
  const bounds = (bx, by, bw, bh) => moddle.create('dc:Bounds', {
    x: Math.round(bx), y: Math.round(by), width: Math.round(bw), height: Math.round(bh),
  });
  const definitions = await parse(xml);
  const processes = definitions.rootElements.filter((e) => e.$type === 'bpmn:Process');
  if (processes.length !== 1) fail(`expected one process in the file, found ${processes.length}`);
  const proc = processes[0];
  const plane = definitions.diagrams[0].plane;
  const shapes = new Map();
  const edges = new Map();
  for (const di of plane.planeElement) {
    if (di.$type === 'bpmndi:BPMNShape') shapes.set(di.bpmnElement.id, di);
    if (di.$type === 'bpmndi:BPMNEdge') edges.set(di.bpmnElement.id, di);
  }
  const elements = flowElementsOf(proc);
  const nodes = elements.filter((e) => e.$type !== 'bpmn:SequenceFlow');
  const flows = elements.filter((e) => e.$type === 'bpmn:SequenceFlow');
  const lanes = (proc.laneSets || []).flatMap((set) => set.lanes || []);

  const laneIndex = new Map();
  lanes.forEach((lane, index) => (lane.flowNodeRef || []).forEach((node) => laneIndex.set(node.id, index)));
  for (const node of nodes) {
    if (!laneIndex.has(node.id)) {
      const host = node.$type === 'bpmn:BoundaryEvent' ? node.attachedToRef : null;
      laneIndex.set(node.id, host && laneIndex.has(host.id) ? laneIndex.get(host.id) : 0);
    }
  }

  const placed = nodes.filter((n) => n.$type !== 'bpmn:BoundaryEvent');
  const boundary = nodes.filter((n) => n.$type === 'bpmn:BoundaryEvent');
  for (const node of nodes) if (!shapes.get(node.id)) fail(`the layout gave no shape to ${node.id}`);
  const original = new Map(nodes.map((n) => [n.id, { x: shapes.get(n.id).bounds.x, y: mid(shapes.get(n.id).bounds).y }]));

  // Columns: every element starts at least GAP to the right of the elements leading to it (a flow from a boundary
  // event counts as a flow from its task), keeping the layout's x where it is already further right.
  const hostOf = (el) => (el.$type === 'bpmn:BoundaryEvent' ? el.attachedToRef : el);
  const incoming = new Map(placed.map((n) => [n.id, []]));
  for (const flow of flows) {
    const source = hostOf(flow.sourceRef);
    if (incoming.has(flow.targetRef.id) && source.id !== flow.targetRef.id) incoming.get(flow.targetRef.id).push(source);
  }
  const x = new Map();
  const pending = new Set(placed.map((n) => n.id));
  const byId = new Map(placed.map((n) => [n.id, n]));
  while (pending.size) {
    let progressed = false;
    for (const id of [...pending]) {
      const preds = incoming.get(id).filter((p) => pending.has(p.id) === false || !byId.has(p.id));
      if (preds.length !== incoming.get(id).length) continue;
      let left = original.get(id).x;
      for (const pred of preds) {
        if (x.has(pred.id)) left = Math.max(left, x.get(pred.id) + shapes.get(pred.id).bounds.width + GAP);
      }
      x.set(id, left);
      pending.delete(id);
      progressed = true;
    }
    if (!progressed) {
      // A cycle: place the leftmost waiting element where the layout put it, then carry on.
      const id = [...pending].sort((a, b) => original.get(a).x - original.get(b).x)[0];
      x.set(id, original.get(id).x);
      pending.delete(id);
    }
  }
  for (const node of placed) shapes.get(node.id).bounds.x = Math.round(x.get(node.id));

  // Rows inside each lane: in the layout's top-to-bottom order, each element takes the first row of its lane that
  // is free over its width (so a lane is only as tall as the elements that really overlap need).
  const rowOf = new Map();
  const rowsUsed = lanes.map(() => []);
  const order = [...placed].sort((a, b) => original.get(a.id).y - original.get(b.id).y
    || original.get(a.id).x - original.get(b.id).x);
  for (const node of order) {
    const lane = laneIndex.get(node.id);
    const b = shapes.get(node.id).bounds;
    const half = Math.max(b.width, /Event$|Gateway$/.test(node.$type) ? LABEL_WIDTH : 0) / 2;
    const centre = b.x + b.width / 2;
    const span = [centre - half - ROW_MARGIN, centre + half + ROW_MARGIN];
    const rows = rowsUsed[lane];
    let row = rows.findIndex((taken) => taken.every(([a, z]) => span[1] <= a || span[0] >= z));
    if (row < 0) {
      row = rows.length;
      rows.push([]);
    }
    rows[row].push(span);
    rowOf.set(node.id, row);
  }
  const bandTop = [];
  const bandHeight = [];
  let y = 0;
  rowsUsed.forEach((rows, index) => {
    bandTop[index] = y;
    bandHeight[index] = Math.max(rows.length, 1) * ROW_HEIGHT + 2 * LANE_PADDING;
    y += bandHeight[index];
  });
  const poolHeight = y;

  let minX = Infinity;
  let maxX = -Infinity;
  for (const node of nodes) {
    const b = shapes.get(node.id).bounds;
    minX = Math.min(minX, b.x);
    maxX = Math.max(maxX, b.x + b.width);
  }

  // Move every shape (and its label) into its row; boundary events and labels follow their element.
  const moved = new Map();
  const shift = (shape, dx, dy) => {
    shape.bounds.y = Math.round(shape.bounds.y + dy);
    if (shape.label && shape.label.bounds) {
      shape.label.bounds.x = Math.round(shape.label.bounds.x + dx);
      shape.label.bounds.y = Math.round(shape.label.bounds.y + dy);
    }
  };
  for (const node of placed) {
    const shape = shapes.get(node.id);
    const lane = laneIndex.get(node.id);
    const centre = bandTop[lane] + LANE_PADDING + rowOf.get(node.id) * ROW_HEIGHT + ROW_HEIGHT / 2;
    const dx = shape.bounds.x - original.get(node.id).x;
    const dy = centre - mid(shape.bounds).y;
    shift(shape, dx, dy);
    moved.set(node.id, [dx, dy]);
  }
  // Boundary events sit evenly along the bottom edge of their task, their labels one under the other.
  const onHost = new Map();
  for (const node of boundary) {
    const list = onHost.get(node.attachedToRef.id) || [];
    list.push(node);
    onHost.set(node.attachedToRef.id, list);
  }
  for (const [hostId, events] of onHost) {
    const host = shapes.get(hostId).bounds;
    events.forEach((node, index) => {
      const shape = shapes.get(node.id);
      const b = shape.bounds;
      b.x = Math.round(host.x + (host.width * (index + 1)) / (events.length + 1) - b.width / 2);
      b.y = Math.round(host.y + host.height - b.height / 2);
      if (events.length > 1 && node.name) {
        // Two labels side by side would overlap: the first goes to the left, the last to the right, any others
        // further down.
        const width = 70;
        const centre = b.x + b.width / 2;
        let lx = centre - width / 2;
        if (index === 0) lx = centre - width + 12;
        if (index === events.length - 1) lx = centre - 12;
        const ly = b.y + b.height + 2 + (index > 0 && index < events.length - 1 ? 16 * index : 0);
        shape.label = moddle.create('bpmndi:BPMNLabel', { bounds: bounds(lx, ly, width, 27) });
      }
    });
  }

  // Re-route every sequence flow between the moved shapes, avoiding the other shapes where it can.
  const boxes = nodes.map((node) => {
    const { x, y, width, height } = shapes.get(node.id).bounds;
    return { id: node.id, host: node.attachedToRef ? node.attachedToRef.id : null, x, y, width, height };
  });
  for (const flow of flows) {
    const edge = edges.get(flow.id);
    if (!edge) fail(`the layout gave no edge to ${flow.id}`);
    const points = route(flow, shapes, boxes);
    edge.waypoint = points.map(([px, py]) => point(px, py));
    if (flow.name) {
      // The name ("Yes", "No", ...) just above the last stretch, next to the element the flow leads to.
      const [x1, y1] = points[points.length - 2];
      const [x2, y2] = points[points.length - 1];
      const horizontal = y1 === y2;
      const width = Math.min(160, 6 * flow.name.length + 10);
      const lx = horizontal ? Math.max(Math.min(x1, x2) + 4, Math.max(x1, x2) - width - 4) : x2 + 6;
      const ly = horizontal ? y2 - 18 : (y1 + y2) / 2 - 7;
      edge.label = moddle.create('bpmndi:BPMNLabel', { bounds: bounds(lx, ly, width, 14) });
    }
  }

  // The collaboration: one participant for the process, one band per lane.
  const poolX = minX - LANE_LABEL - POOL_LABEL - 20;
  const width = maxX - poolX + MARGIN;
  const participant = moddle.create('bpmn:Participant', {
    id: `Participant_${proc.id}`, name: proc.name || proc.id, processRef: proc,
  });
  const collaboration = moddle.create('bpmn:Collaboration', {
    id: `Collaboration_${proc.id}`, participants: [participant],
  });
  participant.$parent = collaboration;
  collaboration.$parent = definitions;
  definitions.rootElements.unshift(collaboration);
  plane.bpmnElement = collaboration;
  const back = [moddle.create('bpmndi:BPMNShape', {
    id: `${participant.id}_di`, bpmnElement: participant, isHorizontal: true,
    bounds: bounds(poolX, 0, width, poolHeight),
  })];
  lanes.forEach((lane, index) => {
    back.push(moddle.create('bpmndi:BPMNShape', {
      id: `${lane.id}_di`, bpmnElement: lane, isHorizontal: true,
      bounds: bounds(poolX + POOL_LABEL, bandTop[index], width - POOL_LABEL, bandHeight[index]),
    }));
  });
  plane.planeElement = [...back, ...plane.planeElement];
  return serialize(definitions);
}

// ---- 4. checks -----------------------------------------------------------------------------------------------------
async function check(before, after) {
  const a = await parse(before);
  const b = await parse(after);
  const ids = (defs) => {
    const out = [];
    for (const root of defs.rootElements) {
      if (root.$type !== 'bpmn:Process') continue;
      for (const el of flowElementsOf(root)) out.push(el.id);
      for (const set of root.laneSets || []) for (const lane of set.lanes || []) out.push(lane.id);
    }
    return out.sort();
  };
  const inDiagram = new Set(b.diagrams.flatMap((d) => d.plane.planeElement.map((di) => di.bpmnElement.id)));
  const missing = ids(b).filter((id) => !inDiagram.has(id));
  if (missing.length) fail(`no diagram element for: ${missing.join(', ')}`);
  if (ids(a).join() !== ids(b).join()) fail('the set of BPMN elements changed during layout');
  const count = (xml) => (xml.match(/spiffworkflow:/g) || []).length;
  if (count(before) !== count(after)) {
    fail(`extension elements were lost (spiffworkflow tags: ${count(before)} before, ${count(after)} after)`);
  }
}

const [, , input, output = input] = process.argv;
if (!input) {
  console.error('usage: node tools/layout_bpmn.mjs <file.bpmn> [<out.bpmn>]');
  process.exit(2);
}
const original = await readFile(input, 'utf8');
const semantic = await stripDiagram(original);
const laidOut = await layoutProcess(semantic);
const result = await addLanes(laidOut);
await check(semantic, result);
await writeFile(output, result.endsWith('\n') ? result : `${result}\n`);
console.log(`layout_bpmn: wrote ${output}`);
