package io.github.cohortsync.connect.sync.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;

class SpillCodecTest {
    private static final CohortRef COHORT = new CohortRef("c1", "Power users – ≥ 3 sessions", "desc", "2195193");

    private static MembershipChange change(CohortRef cohort, String user, Action action, Map<String, Object> props) {
        return new MembershipChange(cohort, user, action, user + "@example.com", "Zoë", null, null, props,
                1_764_547_200_123L, "cohorts", 3, 9_876_543_210L);
    }

    private static byte[] write(List<MembershipChange> changes) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            SpillCodec.Writer writer = new SpillCodec.Writer(out);
            for (MembershipChange change : changes) {
                writer.write(change);
            }
            writer.flush();
        }
        return bytes.toByteArray();
    }

    private static List<MembershipChange> read(byte[] bytes) throws IOException {
        SpillCodec.Reader reader = new SpillCodec.Reader(new ByteArrayInputStream(bytes));
        List<MembershipChange> changes = new ArrayList<>();
        for (MembershipChange change = reader.read(); change != null; change = reader.read()) {
            changes.add(change);
        }
        return changes;
    }

    /** Every field, nulls, non-ASCII text and each property type a converter hands over come back equal. */
    @Test
    void everyFieldAndPropertyTypeSurvivesTheRoundTrip() throws IOException {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("plan", "pro");
        props.put("seats", 12L);
        props.put("small", 7);
        props.put("ratio", 0.25d);
        props.put("f", 1.5f);
        props.put("s", (short) 3);
        props.put("b", (byte) 4);
        props.put("on", true);
        props.put("off", false);
        props.put("none", null);
        props.put("big", new BigDecimal("12345678901234567890.5"));
        props.put("huge", new BigInteger("123456789012345678901234567890"));
        props.put("nested", Map.of("city", "Berlin", "tags", List.of("a", 1L, Map.of("k", "v"))));
        props.put("long text", "x".repeat(70_000));
        List<MembershipChange> changes = List.of(
                change(COHORT, "u1", Action.ADD, props),
                change(COHORT, "u2", Action.REMOVE, Map.of()),
                change(new CohortRef("c2", null, null, null), "u3", Action.ADD, Map.of("emoji", "🎉")));

        List<MembershipChange> back = read(write(changes));

        assertThat(back).isEqualTo(changes);
        assertThat(back.get(0).properties().get("seats")).isInstanceOf(Long.class);
        assertThat(back.get(0).properties().get("small")).isInstanceOf(Integer.class);
        assertThat(back.get(0).properties().keySet()).containsExactlyElementsOf(props.keySet());
    }

    /** Consecutive changes of the same cohort write its fields once and share one instance when read back. */
    @Test
    void consecutiveChangesOfOneCohortShareItsFields() throws IOException {
        List<MembershipChange> changes = List.of(change(COHORT, "u1", Action.ADD, Map.of()),
                change(new CohortRef("c1", "Power users – ≥ 3 sessions", "desc", "2195193"), "u2", Action.ADD,
                        Map.of()));
        byte[] one = write(changes.subList(0, 1));
        byte[] two = write(changes);

        List<MembershipChange> back = read(two);

        assertThat(back.get(1).cohort()).isSameAs(back.get(0).cohort());
        assertThat(two.length - one.length).as("the second change does not repeat the cohort's fields")
                .isLessThan(one.length - COHORT.name().length());
    }

    @Test
    void aFileCutInsideAChangeFailsInsteadOfReadingGarbage() throws IOException {
        byte[] whole = write(List.of(change(COHORT, "u1", Action.ADD, Map.of("plan", "pro"))));
        byte[] cut = Arrays.copyOf(whole, whole.length - 3);

        assertThatThrownBy(() -> read(cut)).isInstanceOf(EOFException.class);
    }

    @Test
    void aDamagedMarkerIsReportedAsADamagedFile() {
        assertThatThrownBy(() -> read(new byte[] {7, 1, 2}))
                .isInstanceOf(IOException.class).hasMessageContaining("Damaged snapshot spill file");
    }
}
