// Queue Lab page: send the same job three ways and watch every job in one live table.
// Plain ES modules, no dependencies. Text from the server only ever goes in via textContent.
// This entry point only wires the modules together: who follows the one feed of rows, and the
// order things start in.

import { receiveBindingRows, startBindingsDiagram } from "./bindings_diagram.js";
import { startClassControls } from "./class_controls.js";
import { startExperiments } from "./experiments.js";
import { receiveFlowRows, showFlowQueues, showFlowWorkers, startFlowDiagram, startOverFlow } from "./flow_diagram.js";
import { showRowsInTable, startJobsTable, startTableOver } from "./jobs_table.js";
import { onRows, onStartOver, startLiveFeed } from "./live_feed.js";
import { startPreferences } from "./preferences.js";
import { startFolding } from "./shared.js";
import { onQueueStats, startQueuesPanel } from "./queues_panel.js";
import { receiveRaceRows, startRace } from "./race.js";
import { startSendPanels } from "./send_panels.js";
import { requestSummary } from "./summary.js";
import { onWorkers, startWorkersPanel } from "./workers_panel.js";

onRows(receiveRaceRows);
onRows(receiveFlowRows);  // the flow diagram: a dot for every real event
onRows(receiveBindingRows);  // the routing lesson: each routed job along the bindings its key matched
onQueueStats(showFlowQueues);
onWorkers(showFlowWorkers);
onRows(showRowsInTable);
onRows((tasks) => {
  if (tasks.length > 0) requestSummary();
});
onStartOver(startTableOver);  // a reset by the instructor: the jobs on screen no longer exist
onStartOver(requestSummary);
onStartOver(startOverFlow);

startFolding();
startPreferences();
startClassControls();
startSendPanels();
startJobsTable();
requestSummary();
startWorkersPanel();
startFlowDiagram();
startBindingsDiagram();
startQueuesPanel();
startExperiments();
startRace();
startLiveFeed();
