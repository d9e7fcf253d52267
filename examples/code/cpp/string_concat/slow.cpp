// Convert "name score" records from stdin into a single JSON array on stdout.
#include <iostream>
#include <string>

static std::string escape_json(const std::string& text) {
    std::string escaped;
    for (char c : text) {
        if (c == '"' || c == '\\') escaped += '\\';
        escaped += c;
    }
    return escaped;
}

int main() {
    std::ios::sync_with_stdio(false);
    std::cin.tie(nullptr);

    std::string json = "[";
    std::string name;
    long long score = 0;
    int count = 0;
    while (std::cin >> name >> score) {
        if (count > 0) json = json + ",";
        json = json + "{\"id\":" + std::to_string(count) + ",\"name\":\"" + escape_json(name) +
               "\",\"score\":" + std::to_string(score) + "}";
        ++count;
    }
    json = json + "]";
    std::cout << json << "\n";
    std::cout << "records " << count << " bytes " << json.size() << "\n";
    return 0;
}
