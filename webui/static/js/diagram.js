// Draws each route's BPMN diagram with bpmn-js (served by this app) and highlights where the route is.
// The page says the same in text, so nothing is lost without JavaScript.
(function () {
  'use strict';

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
    canvas.zoom('fit-viewport', 'auto');
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
        target.setAttribute('role', 'img');
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
