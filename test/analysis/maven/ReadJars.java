// Java's own reading of the Maven coordinates in jars: java.util.jar.JarFile and java.util.Properties.
// Prints one line per jar: <file>\t<group:artifact@version,...> (empty when no pom.properties).
import java.io.InputStream;
import java.util.Enumeration;
import java.util.Properties;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

public class ReadJars {
  public static void main(String[] args) throws Exception {
    for (String file : args) {
      TreeSet<String> found = new TreeSet<>();
      try (JarFile jar = new JarFile(file)) {
        for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
          JarEntry entry = e.nextElement();
          if (!entry.getName().matches("META-INF/maven/[^/]+/[^/]+/pom\\.properties")) continue;
          Properties p = new Properties();
          try (InputStream in = jar.getInputStream(entry)) {
            p.load(in);
          }
          found.add(p.getProperty("groupId") + ":" + p.getProperty("artifactId") + "@" + p.getProperty("version"));
        }
      }
      System.out.println(file + "\t" + String.join(",", found));
    }
  }
}
