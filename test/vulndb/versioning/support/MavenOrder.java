// Maven's own ordering, as the judge for portcullis's Maven scheme: reads "a<TAB>b" lines from the
// file named by args[0] and prints <, = or > per line, by maven-artifact's ComparableVersion.
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class MavenOrder {
  public static void main(String[] args) throws IOException {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(new FileInputStream(args[0]), StandardCharsets.UTF_8))) {
      PrintWriter out = new PrintWriter(
          new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8)));
      String line;
      while ((line = in.readLine()) != null) {
        int tab = line.indexOf('\t');
        int c = new ComparableVersion(line.substring(0, tab))
            .compareTo(new ComparableVersion(line.substring(tab + 1)));
        out.println(c < 0 ? "<" : c > 0 ? ">" : "=");
      }
      out.flush();
    }
  }
}
