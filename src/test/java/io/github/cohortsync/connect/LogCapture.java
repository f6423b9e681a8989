package io.github.cohortsync.connect;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.apache.log4j.AppenderSkeleton;
import org.apache.log4j.spi.LoggingEvent;

/** Keeps every log line and exception trace rendered while it is attached, for tests that read the logs. */
public final class LogCapture extends AppenderSkeleton {
    public final List<String> lines = Collections.synchronizedList(new ArrayList<>());

    @Override
    protected void append(LoggingEvent event) {
        lines.add(event.getRenderedMessage());
        String[] trace = event.getThrowableStrRep();
        if (trace != null) {
            lines.addAll(List.of(trace));
        }
    }

    @Override
    public boolean requiresLayout() {
        return false;
    }

    @Override
    public void close() {
    }
}
