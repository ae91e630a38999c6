// Draws each route's BPMN diagram with bpmn-js (served by this app) and highlights where the route is.
// The page says the same in text, so nothing is lost without JavaScript.
// It opens at a readable zoom (1.0) centred on the current step, with zoom buttons, because a whole route shrunk to
// fit its frame cannot be read; call activities are captioned with the route they start, and deadline timers with the
// deadline they watch (read from the BPMN's spiffworkflow properties), since "6 weeks" alone says nothing.
(function () {
  'use strict';

  var READABLE_ZOOM = 1.0;
  var ZOOM_STEP = 1.25;
  var BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL';
  var SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core';

  function message(container, text) {
    container.classList.add('ehc-diagram--empty');
    var p = document.createElement('p');
    p.className = 'govuk-body';
    p.textContent = text;
    container.appendChild(p);
    container.setAttribute('data-diagram-ready', 'error');
  }

  function mark(canvas, registry, ids, marker) {
    (ids || []).forEach(function (id) {
      if (registry.get(id)) {
        canvas.addMarker(id, marker);
      }
    });
  }

  // Element id -> its spiffworkflow properties, for the elements that have any (a DOM parse: the viewer's moddle
  // does not know the spiffworkflow namespace).
  function properties(xml) {
    var found = {};
    var doc = new DOMParser().parseFromString(xml, 'application/xml');
    var lists = doc.getElementsByTagNameNS(SPIFF_NS, 'properties');
    for (var i = 0; i < lists.length; i++) {
      var owner = lists[i].parentNode && lists[i].parentNode.parentNode;
      var id = owner && owner.getAttribute && owner.getAttribute('id');
      if (!id) { continue; }
      var props = found[id] || (found[id] = {});
      var items = lists[i].getElementsByTagNameNS(SPIFF_NS, 'property');
      for (var j = 0; j < items.length; j++) {
        props[items[j].getAttribute('name')] = items[j].getAttribute('value') || '';
      }
    }
    return found;
  }

  function isTimer(element) {
    var definitions = (element.businessObject && element.businessObject.eventDefinitions) || [];
    return definitions.some(function (d) { return d.$type === 'bpmn:TimerEventDefinition'; });
  }

  function label(overlays, element, className, text, position) {
    var note = document.createElement('div');
    note.className = 'ehc-diagram-note ' + className;
    note.textContent = text;
    overlays.add(element.id, { position: position, html: note });
  }

  // Captions: the route a call activity starts, and the deadline a timer watches.
  function annotate(viewer, xml, routeNames) {
    var registry = viewer.get('elementRegistry');
    var overlays = viewer.get('overlays');
    var props = properties(xml);
    registry.getAll().forEach(function (element) {
      var bo = element.businessObject;
      if (!bo || element.type === 'label') { return; }
      if (bo.$type === 'bpmn:CallActivity' && bo.calledElement) {
        var route = (routeNames || {})[bo.calledElement] || bo.calledElement;
        label(overlays, element, 'ehc-diagram-note--route', 'Starts the route: ' + route,
              { top: element.height + 4, left: 0 });
      }
      var own = props[element.id] || {};
      if (own.deadline && isTimer(element)) {
        // Under the timer's own name ("6 weeks"), so that neither hides the task the timer is attached to.
        var below = element.label ? element.label.y + element.label.height - element.y : element.height;
        label(overlays, element, 'ehc-diagram-note--deadline', 'Deadline: ' + (own.deadlineName || own.deadline),
              { top: below + 4, left: element.width / 2 - 80 });
      }
    });
  }

  // Readable zoom, centred on the marked steps (current, else failed, else waiting); without any, the diagram's start.
  function focus(canvas, registry, data) {
    canvas.zoom(READABLE_ZOOM);
    var ids = [data.current, data.failed, data.waiting].map(function (list) {
      return (list || []).filter(function (id) { return registry.get(id); });
    }).filter(function (list) { return list.length; })[0] || [];
    var shapes = ids.map(function (id) { return registry.get(id); });
    if (!shapes.length) {
      shapes = registry.getAll().filter(function (e) { return e.width && e.type !== 'label' && e.parent; });
    }
    var outer = canvas.viewbox().outer;
    if (!outer.width || !outer.height) { return; }  // not laid out (a hidden frame): leave bpmn-js's default
    var left = Math.min.apply(null, shapes.map(function (e) { return e.x; }));
    var top = Math.min.apply(null, shapes.map(function (e) { return e.y; }));
    var right = Math.max.apply(null, shapes.map(function (e) { return e.x + e.width; }));
    var bottom = Math.max.apply(null, shapes.map(function (e) { return e.y + e.height; }));
    var width = outer.width / READABLE_ZOOM;
    var height = outer.height / READABLE_ZOOM;
    var x = ids.length ? (left + right) / 2 - width / 2 : left - 20;
    var y = ids.length ? (top + bottom) / 2 - height / 2 : top - 20;
    canvas.viewbox({ x: x, y: y, width: width, height: height });
  }

  function button(text, name, action) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'govuk-button govuk-button--secondary ehc-diagram-zoom';
    b.textContent = text;
    b.setAttribute('aria-label', name);
    b.addEventListener('click', action);
    return b;
  }

  // Zoom buttons above the diagram (outside its role="figure" frame, so they stay in the tab order and are announced).
  function controls(container, canvas, eventBus, title) {
    var bar = document.createElement('div');
    bar.className = 'govuk-button-group ehc-diagram-controls';
    var zoomBy = function (factor) {
      canvas.zoom(Math.min(4, Math.max(0.2, canvas.zoom() * factor)), 'auto');
    };
    bar.appendChild(button('Zoom in', 'Zoom in on the diagram of ' + title, function () { zoomBy(ZOOM_STEP); }));
    bar.appendChild(button('Zoom out', 'Zoom out of the diagram of ' + title, function () { zoomBy(1 / ZOOM_STEP); }));
    bar.appendChild(button('Show the whole diagram', 'Show the whole diagram of ' + title, function () {
      canvas.zoom('fit-viewport', 'auto');
    }));
    container.parentNode.insertBefore(bar, container);
    var record = function () { container.setAttribute('data-zoom', String(Math.round(canvas.zoom() * 1000) / 1000)); };
    eventBus.on('canvas.viewbox.changed', record);
    record();
  }

  async function draw(container, diagram, data) {
    var viewer = new window.BpmnJS({ container: container });
    await viewer.importXML(diagram.xml);
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    if (registry.getAll().length <= 1) {
      viewer.destroy();
      message(container, 'This route has no diagram layout to show.');
      return [];
    }
    annotate(viewer, diagram.xml, data.route_names);
    focus(canvas, registry, data);
    controls(container, canvas, viewer.get('eventBus'), diagram.name);
    mark(canvas, registry, data.done, 'ehc-done');
    mark(canvas, registry, data.waiting, 'ehc-waiting');
    mark(canvas, registry, data.current, 'ehc-current');
    mark(canvas, registry, data.failed, 'ehc-failed');
    return (data.current || []).filter(function (id) { return registry.get(id); });
  }

  async function load(container) {
    if (typeof window.BpmnJS !== 'function') {
      message(container, 'The diagram viewer could not be loaded.');
      return;
    }
    var data;
    try {
      var response = await fetch(container.getAttribute('data-diagram-url'), {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      });
      if (!response.ok) {
        throw new Error('HTTP ' + response.status);
      }
      data = await response.json();
    } catch (error) {
      message(container, 'The diagram could not be loaded. The current step is listed above.');
      return;
    }
    if (!data.diagrams || !data.diagrams.length) {
      message(container, 'This route has no diagram to show.');
      return;
    }
    var shown = [];
    for (var i = 0; i < data.diagrams.length; i++) {
      var target = container;
      if (i > 0) {
        target = document.createElement('div');
        target.className = 'ehc-diagram';
        target.setAttribute('role', 'figure');
        target.setAttribute('aria-label', 'Diagram of ' + data.diagrams[i].name);
        container.parentNode.insertBefore(target, container.nextSibling);
      }
      try {
        shown = shown.concat(await draw(target, data.diagrams[i], data));
      } catch (error) {
        message(target, 'This diagram could not be drawn.');
      }
    }
    container.setAttribute('data-current', shown.join(' '));
    container.setAttribute('data-diagram-ready', 'true');
  }

  document.querySelectorAll('[data-diagram-url]').forEach(function (container) {
    load(container);
  });
})();
